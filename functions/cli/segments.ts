// Entry point of the `segments` command: reads the environment once and runs the command line.
import { runCli } from './main.ts';
import { cliConfig } from './config.ts';
import { processOutput } from './context.ts';

// output piped into a reader that stops early (`segments generate … | head`) is not an error
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await runCli(process.argv.slice(2), processOutput, cliConfig(process.env));
