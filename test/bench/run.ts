// npm run bench: this project side by side with the original Python pipeline (pandas +
// scikit-learn, one thread), on data from the project's own generator. Prints ratios, since
// machines are noisy. Not part of npm test. Needs Debian's python3-sklearn (fails loudly without).

import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { benchInDatabase } from './in-database.ts';
import { buildBundles, coldStarts } from './bundle-sizes.ts';

const PYTHON = '/usr/bin/python3';
const ROOT = join(import.meta.dirname, '..', '..');
const CLI = join(ROOT, 'functions', 'cli', 'segments.mjs');
const SKLEARN = join(import.meta.dirname, 'sklearn_bench.py');
const SWEEP_REPEATS = 5;
const FIT_REPEATS = 3;
const ASSIGN_REPEATS = 3;

interface Measured {
  readonly wallMs: number;
  readonly peakMb: number;
  readonly stdout: string;
}

/** Runs a command to completion under /usr/bin/time, for wall time and peak resident memory. */
function measure(command: string, args: readonly string[]): Measured {
  const start = performance.now();
  const run = spawnSync('/usr/bin/time', ['-f', '%M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 26 });
  const wallMs = performance.now() - start;
  if (run.status !== 0) throw new Error(`${command} ${args.join(' ')} failed:\n${run.stderr}`);
  const peakKb = Number(run.stderr.trim().split('\n').pop());
  return { wallMs, peakMb: peakKb / 1024, stdout: run.stdout };
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const rows: string[][] = [];
function report(what: string, ours: string, theirs: string, ratio: number | null, target: string): void {
  rows.push([what, ours, theirs, ratio === null ? '' : `${fmt(ratio, 2)}×`, target]);
  process.stderr.write(`  ${what}: ${ours} vs ${theirs}${ratio === null ? '' : ` (${fmt(ratio, 2)}×)`}\n`);
}

function requirePython(): void {
  const check = spawnSync(PYTHON, ['-c', 'import sklearn, pandas, threadpoolctl'], { encoding: 'utf8' });
  if (check.status !== 0) {
    process.stderr.write(
      `npm run bench needs ${PYTHON} with scikit-learn, pandas and threadpoolctl (apt-get install python3-sklearn python3-pandas python3-threadpoolctl):\n${check.stderr}`,
    );
    process.exit(1);
  }
}

async function main(): Promise<void> {
  requirePython();
  const dir = mkdtempSync(join(tmpdir(), 'segments-bench-'));
  // as root, the embedded server runs as the postgres user, which must reach its data directory
  chmodSync(dir, 0o755);
  try {
    const data = (rows: number): string => {
      const path = join(dir, `customers-${rows}.csv`);
      measure('node', [CLI, 'generate', '--rows', String(rows), '--seed', '11', '--out', path]);
      return path;
    };
    const fitScript = join(dir, 'fit.mjs');
    await build({
      entryPoints: [join(import.meta.dirname, 'fit.ts')],
      outfile: fitScript,
      bundle: true,
      platform: 'node',
      format: 'esm',
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'error',
    });

    process.stderr.write('fit, k = 5, ten restarts\n');
    for (const n of [100_000, 1_000_000]) {
      const csv = data(n);
      const repeats = n >= 1_000_000 ? 1 : FIT_REPEATS;
      const ours = Array.from({ length: repeats }, () => measure('node', [fitScript, csv, '5', '10']));
      const theirs = Array.from({ length: repeats }, () => measure(PYTHON, [SKLEARN, 'fit', csv, '5', '10']));
      const o = ours.map((m) => JSON.parse(m.stdout) as { fit_ms: number; inertia: number; peak_rss_mb: number });
      const t = theirs.map((m) => JSON.parse(m.stdout) as { fit_ms: number; inertia: number; peak_rss_mb: number });
      const oFit = median(o.map((r) => r.fit_ms));
      const tFit = median(t.map((r) => r.fit_ms));
      // the targets are the issue's, for 10⁶ rows; 10⁵ rows is shown for the trend
      const target = (text: string): string => (n >= 1_000_000 ? text : '');
      report(`fit ${fmt(n)} rows: time`, `${fmt(oFit)} ms`, `${fmt(tFit)} ms`, oFit / tFit, target('≤ 1.0×'));
      const inertiaGap = (o[0]!.inertia - t[0]!.inertia) / t[0]!.inertia;
      report(
        `fit ${fmt(n)} rows: inertia`,
        fmt(o[0]!.inertia, 1),
        fmt(t[0]!.inertia, 1),
        null,
        `${target('within 0.5 % ')}(${fmt(inertiaGap * 100, 3)} %)`,
      );
      const oPeak = median(ours.map((m) => m.peakMb));
      const tPeak = median(theirs.map((m) => m.peakMb));
      report(`fit ${fmt(n)} rows: peak memory (whole process)`, `${fmt(oPeak)} MB`, `${fmt(tPeak)} MB`, oPeak / tPeak, target('≤ 0.5×'));
    }

    process.stderr.write('sweep k = 1..10 on 200 rows, whole process\n');
    const small = data(200);
    const store = join(dir, 'store');
    measure('node', [CLI, 'help']); // warm the CLI bundle
    const sweep = (...extra: string[]): number =>
      median(
        Array.from(
          { length: SWEEP_REPEATS },
          () => measure('node', [CLI, 'train', small, '--store', store, '--json', '--no-report', ...extra]).wallMs,
        ),
      );
    const tSweep = median(Array.from({ length: SWEEP_REPEATS }, () => measure(PYTHON, [SKLEARN, 'sweep', small]).wallMs));
    const oSweep = sweep('--restarts', '10');
    report('sweep k = 1..10, 200 rows, 10 starts (process)', `${fmt(oSweep)} ms`, `${fmt(tSweep)} ms`, oSweep / tSweep, '≤ 0.25×');
    const oSweepDefault = sweep();
    report('  … with the default 100 starts', `${fmt(oSweepDefault)} ms`, `${fmt(tSweep)} ms`, oSweepDefault / tSweep, '');
    const oSweepReport = measure('node', [CLI, 'train', small, '--store', store, '--json']).wallMs;
    report('  … with 100 starts and the report', `${fmt(oSweepReport)} ms`, `${fmt(tSweep)} ms`, oSweepReport / tSweep, '');

    process.stderr.write('CSV assignment, 1,000,000 rows, whole process\n');
    const big = join(dir, 'customers-1000000.csv');
    const training = data(10_000);
    measure('node', [CLI, 'train', training, '--store', store, '--k', '5']);
    const assignBig = (...extra: string[]): Measured =>
      measure('node', [CLI, 'assign', big, '--store', store, '--out', join(dir, 'ours.csv'), ...extra]);
    // interleaved, so that a noisy moment hits each side alike; medians of ASSIGN_REPEATS runs
    const runs = Array.from({ length: ASSIGN_REPEATS }, () => ({
      ours: assignBig(),
      one: assignBig('--workers', '1'),
      theirs: measure(PYTHON, [SKLEARN, 'assign', big, join(dir, 'theirs.csv')]),
    }));
    const medianRun = (pick: (r: (typeof runs)[number]) => Measured): Measured => {
      const sorted = runs.map(pick).sort((a, b) => a.wallMs - b.wallMs);
      return sorted[Math.floor(sorted.length / 2)]!;
    };
    const oAssign = medianRun((r) => r.ours);
    const oAssignOne = medianRun((r) => r.one);
    const tAssign = medianRun((r) => r.theirs);
    const reportAssign = (what: string, ours: Measured, target: string): void =>
      report(what, `${fmt(ours.wallMs)} ms`, `${fmt(tAssign.wallMs)} ms`, ours.wallMs / tAssign.wallMs, target);
    reportAssign('assign 1,000,000 rows: time (default: a worker per core)', oAssign, '≤ 0.5×');
    reportAssign('  … on one thread (--workers 1)', oAssignOne, '');
    report('assign 1,000,000 rows: rows/s', fmt(1e6 / (oAssign.wallMs / 1000)), fmt(1e6 / (tAssign.wallMs / 1000)), null, '');
    const oAssignSmall = measure('node', [
      CLI,
      'assign',
      join(dir, 'customers-100000.csv'),
      '--store',
      store,
      '--out',
      join(dir, 'ours-small.csv'),
      '--workers',
      '1',
    ]);
    report(
      'assign peak memory, 100,000 → 1,000,000 rows (one thread)',
      `${fmt(oAssignSmall.peakMb)} → ${fmt(oAssignOne.peakMb)} MB`,
      `${fmt(tAssign.peakMb)} MB at 1,000,000`,
      null,
      'flat in file size',
    );

    process.stderr.write('function bundles (as cdk synth builds them)\n');
    const bundles = buildBundles(join(dir, 'cdk.out'));
    // what an event waits for on a cold start: the import (Lambda's init), then the first invocation
    const starts = coldStarts(bundles, SWEEP_REPEATS);
    for (const bundle of bundles) {
      const limit = bundle.name === 'train' ? 3_000_000 : 1_000_000;
      report(
        `${bundle.name} bundle: size`,
        `${fmt(bundle.bytes / 1000)} kB`,
        '',
        null,
        bundle.name === 'migrate' ? '' : `≤ ${fmt(limit / 1e6)} MB`,
      );
      const start = starts.get(bundle.name)!;
      report(
        `${bundle.name} bundle: cold start to first answer (import + first)`,
        `${fmt(start.importMs + start.firstMs)} ms (${fmt(start.importMs)} + ${fmt(start.firstMs)})`,
        '',
        null,
        '',
      );
    }

    process.stderr.write('in-database labeling, 1,000,000 customers\n');
    const db = await benchInDatabase(join(dir, 'pg'), 1_000_000);
    report('in-database labeling: time', `${fmt(db.labelMs)} ms`, '', null, '≤ 15,000 ms');
    report('in-database labeling: rows/s', fmt(db.rowsPerSecond), '', null, '');
    report('in-database labeling: slowest statement', `${fmt(db.slowestStatementMs)} ms`, '', null, '≤ 5,000 ms');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const header = ['measure', 'this project', 'pandas + scikit-learn', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  process.stdout.write(`${[line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')}\n`);
}

await main();
