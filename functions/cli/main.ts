// The `segments` command line: the same workflows as the Lambda functions, on local files and a
// local PostgreSQL. A router over one file per command (commands/); `runCli` returns the exit code,
// and errors reach the user here and only here.

import { SegmentationError, userMessage } from '../../shared/errors.ts';
import { helpRequest, lookUp, parseCommandLine, usageOf, UsageError, type Command, type Lookup, type UsageDefinitions } from './command.ts';
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

const USAGE_FOOTER: readonly string[] = [
  'segments <command> --help shows one command (segments db --help: the db commands).',
  'db commands, report and export use DATABASE_URL when set, otherwise an embedded PostgreSQL kept',
  'under the store. SEGMENTS_DEBUG=1 prints the stack trace of an unexpected error.',
];

/** The usage of every command, or of those a command line names (`train`, `db`, `db train`). */
export function usage(words: readonly string[] = []): string {
  return usageOf(COMMANDS, USAGE_FOOTER, words);
}

/** What a build keeps for answering `segments help` without loading the commands (build.mjs writes it). */
export function usageDefinitions(): UsageDefinitions {
  return { commands: COMMANDS.map(({ name, args, summary, options }) => ({ name, args, summary, options })), footer: USAGE_FOOTER };
}

/** Where the usage of what a command line named is. */
function helpCommand(found: Lookup<Command>, first: string): string {
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
  const help = helpRequest(argv);
  if (help !== null) {
    io.out(usage(help.words));
    return help.code;
  }
  const found = lookUp(COMMANDS, argv);
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
      io.err(`run "${helpCommand(found, argv[0]!)}" for usage`);
      return 2;
    }
    if (!known && config.debug) io.err(String((error as Error)?.stack ?? error));
    return 1;
  }
}
