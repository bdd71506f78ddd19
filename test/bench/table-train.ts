// Bench: training from a table of N customers, as the deployed train function runs it — the real
// handler ({"source": "database"}) over the Data API emulator adding 50 ms to every call and
// PostgreSQL, the model and report into the local S3 bucket. The whole invocation is timed: the
// copy, the sample, the sweep and restarts, the refinement, the figures, the membership, the
// labeling of the table with the promoted model, and the report.
//
//   npx tsx test/bench/table-train.ts 1000000 [k]

import { createTrainHandler } from '../../functions/train/handler.ts';
import { BENCH_LATENCY_MS, loadGeneratedCustomers, startBenchServices } from './local-services.ts';

/** k as the other training rows of the bench give it (`--k 5`). */
const DEFAULT_K = 5;

export interface TableTrainFigures extends Record<string, number> {
  readonly rows: number;
  readonly k: number;
  readonly wallMs: number;
  readonly calls: number;
  /** Bytes the function received from the Data API (response bodies) and sent to it (request bodies). */
  readonly responseBytes: number;
  readonly requestBytes: number;
  /** The longest any one call's statement ran in the database (latency excluded). */
  readonly slowestCallMs: number;
  readonly members: number;
  readonly labeled: number;
}

/** Loads `rows` unlabeled customers and times one train invocation from the table (k given, or 'auto' as 0). */
export async function benchTableTrain(rows: number, k: number = DEFAULT_K): Promise<TableTrainFigures> {
  const services = await startBenchServices('table-train', BENCH_LATENCY_MS);
  try {
    const { aws } = services;
    await loadGeneratedCustomers(aws.db.repo.pool, rows);
    const runtime = aws.runtime();
    const before = { ...aws.dataApi.stats };
    aws.dataApi.stats.slowestCallMs = 0;
    const started = performance.now();
    const outcome = (await createTrainHandler(runtime)({ source: 'database', k: k === 0 ? 'auto' : k })) as {
      status?: string;
      modelVersion?: string;
    };
    const wallMs = performance.now() - started;
    const stats = { ...aws.dataApi.stats };
    if (outcome.status !== 'ok') throw new Error(`training from the table failed: ${JSON.stringify(outcome)}`);
    const { rows: counted } = await aws.db.repo.pool.query(
      `SELECT (SELECT count(*) FROM customers WHERE model_version = $1 AND segment_origin = 'created')::int AS labeled,
         (SELECT count(*) FROM training_members WHERE model_version = $1)::int AS members`,
      [outcome.modelVersion],
    );
    const { labeled, members } = counted[0] as { labeled: number; members: number };
    if (labeled !== rows || members !== rows) throw new Error(`${members} members and ${labeled} labeled created of ${rows} customers`);
    return {
      rows,
      k,
      wallMs,
      calls: stats.executeCalls - before.executeCalls,
      responseBytes: stats.responseBytes - before.responseBytes,
      requestBytes: stats.requestBytes - before.requestBytes,
      slowestCallMs: stats.slowestCallMs,
      members,
      labeled,
    };
  } finally {
    await services.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  const k = process.argv[3] === 'auto' ? 0 : Number(process.argv[3] ?? DEFAULT_K);
  console.log(JSON.stringify(await benchTableTrain(rows, k)));
}
