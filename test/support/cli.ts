// Runs the `segments` command line in this process and keeps what it printed, for the CLI tests.

import { runCli } from '../../functions/cli/main.ts';
import type { CliConfig } from '../../functions/cli/config.ts';

export interface CliRun {
  readonly code: number;
  /** Lines on stdout. */
  readonly out: string[];
  /** Lines on stderr. */
  readonly err: string[];
}

/** `segments <argv>` with `config` (default: as the environment gives it) and its exit code and output. */
export async function runSegments(argv: readonly string[], config?: CliConfig): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli([...argv], { out: (t) => out.push(t), err: (t) => err.push(t) }, config);
  return { code, out, err };
}
