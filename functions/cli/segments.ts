// Entry point of the `segments` command.
import { runCli } from './main.ts';

process.exitCode = await runCli(process.argv.slice(2));
