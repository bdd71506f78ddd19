// Entry point of the `segments` command: reads the environment once and runs the command line.
// A bundle answers a request for the usage from the definitions its build kept beside it
// (usage.json), without loading the commands; otherwise the router in main.ts runs the line.
import { readFileSync } from 'node:fs';
import { helpRequest, usageOf, type UsageDefinitions } from './command.ts';

/** Written by build.mjs into the build directory, next to this file's bundle (never beside the sources). */
const USAGE_FILE = 'usage.json';

// output piped into a reader that stops early (`segments generate … | head`) is not an error
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

/** The definitions the build kept, or null when running from the sources (or a build without them). */
function builtUsage(): UsageDefinitions | null {
  try {
    return JSON.parse(readFileSync(new URL(USAGE_FILE, import.meta.url), 'utf8')) as UsageDefinitions;
  } catch {
    return null;
  }
}

const argv = process.argv.slice(2);
const help = helpRequest(argv);
const built = help === null ? null : builtUsage();
if (help !== null && built !== null) {
  process.stdout.write(`${usageOf(built.commands, built.footer, help.words)}\n`);
  process.exitCode = help.code;
} else {
  // loaded only now: the commands and what they import are most of the CLI's start-up
  const [{ runCli }, { cliConfig }, { processOutput }] = await Promise.all([
    import('./main.ts'),
    import('./config.ts'),
    import('./context.ts'),
  ]);
  process.exitCode = await runCli(argv, processOutput, cliConfig(process.env));
}
