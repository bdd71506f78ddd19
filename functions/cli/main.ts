// The `segments` command line: the same workflows as the Lambda functions, on local files and a
// local PostgreSQL. A router over one file per command (commands/); `runCli` returns the exit code,
// and errors reach the user here and only here.

import { SegmentationError, userMessage } from '../../shared/errors.ts';
import { parseCommandLine, renderUsage, UsageError, type Command } from './command.ts';
import { assign } from './commands/assign.ts';
import { dbAssign, dbLoad, dbMigrate, dbStatus, dbTrain } from './commands/db.ts';
import { demo } from './commands/demo.ts';
import { exportCommand } from './commands/export.ts';
import { generate } from './commands/generate.ts';
import { modelsList, modelsPromote, modelsRollback } from './commands/models.ts';
import { preflight } from './commands/preflight.ts';
import { report } from './commands/report.ts';
import { smoke } from './commands/smoke.ts';
import { train } from './commands/train.ts';
import { cliConfig, type CliConfig } from './config.ts';
import { processOutput, type Output } from './context.ts';

/** Every command, in the order the usage lists them. */
export const COMMANDS: readonly Command[] = [
  train,
  assign,
  generate,
  dbMigrate,
  dbLoad,
  dbTrain,
  dbAssign,
  dbStatus,
  report,
  modelsList,
  modelsPromote,
  modelsRollback,
  exportCommand,
  demo,
  preflight,
  smoke,
];

const USAGE_FOOTER = [
  'segments <command> --help shows one command (segments db --help: the db commands).',
  'db commands, report and export use DATABASE_URL when set, otherwise an embedded PostgreSQL kept',
  'under the store. SEGMENTS_DEBUG=1 prints the stack trace of an unexpected error.',
];

/** The usage of every command, or of those a command line names (`train`, `db`, `db train`). */
export function usage(words: readonly string[] = []): string {
  const matching = lookUp(words);
  return renderUsage('command' in matching ? [matching.command] : matching.group, USAGE_FOOTER);
}

const HELP = new Set(['help', '--help', '-h']);

/** Commands grouped under a first word (`db`, `models`): the group's name → its commands. */
function groups(): Map<string, Command[]> {
  const byWord = new Map<string, Command[]>();
  for (const command of COMMANDS) {
    const [first, second] = command.name.split(' ');
    if (second !== undefined) byWord.set(first!, [...(byWord.get(first!) ?? []), command]);
  }
  return byWord;
}

type Lookup =
  { readonly command: Command; readonly rest: readonly string[] } | { readonly group: readonly Command[]; readonly problem: string | null };

/** Finds the command a command line starts with; otherwise the commands it may have meant and why not. */
function lookUp(argv: readonly string[]): Lookup {
  const [first, second] = argv;
  if (first === undefined) return { group: COMMANDS, problem: null };
  const group = groups().get(first);
  if (group === undefined) {
    const command = COMMANDS.find((c) => c.name === first);
    return command === undefined ? { group: COMMANDS, problem: `unknown command "${first}"` } : { command, rest: argv.slice(1) };
  }
  const command = group.find((c) => c.name === `${first} ${second}`);
  if (command !== undefined) return { command, rest: argv.slice(2) };
  const subcommands = group.map((c) => c.name.split(' ')[1]);
  const choices = `${subcommands.slice(0, -1).join(', ')} or ${subcommands.at(-1)}`;
  return {
    group,
    problem:
      second === undefined || second.startsWith('-')
        ? `${first} needs a subcommand: ${choices}`
        : `unknown ${first} subcommand "${second}"`,
  };
}

/** Where the usage of what a command line named is. */
function helpCommand(found: Lookup, first: string): string {
  if ('command' in found) return `segments ${found.command.name} --help`;
  return found.group === COMMANDS ? 'segments help' : `segments ${first} --help`;
}

/**
 * Runs one command line; returns the process exit code (0 ok, 1 failed, 2 usage). The environment
 * is read here when the caller does not pass it.
 */
export async function runCli(
  argv: readonly string[],
  io: Output = processOutput,
  config: CliConfig = cliConfig(process.env),
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.out(usage());
    return 2;
  }
  if (HELP.has(first)) {
    io.out(usage(rest));
    return 0;
  }
  const found = lookUp(argv);
  if (argv.some((a) => HELP.has(a) && a !== 'help')) {
    io.out(usage(argv.filter((a) => !a.startsWith('-'))));
    return 0;
  }
  try {
    if (!('command' in found)) throw new UsageError(found.problem ?? 'no command');
    const { values, args } = parseCommandLine(found.command, found.rest);
    await found.command.run({ values, args }, { io, config });
    return 0;
  } catch (error) {
    const known = error instanceof SegmentationError && error.userFacing;
    const firstLine = String((error as Error)?.message ?? error).split('\n')[0];
    io.err(`segments: ${known ? userMessage(error) : `unexpected error: ${firstLine}`}`);
    if (error instanceof UsageError) {
      io.err(`run "${helpCommand(found, first)}" for usage`);
      return 2;
    }
    if (!known && config.debug) io.err(String((error as Error)?.stack ?? error));
    return 1;
  }
}
