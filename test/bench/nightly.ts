// Bench: the nightly labeling of a table of N customers, as the deployed assign function runs it —
// the real handler over the Data API emulator (no added latency: the target is for the
// database's own work) and PostgreSQL, the model in the local S3 bucket. Whole invocation timed.
//
//   npx tsx test/bench/nightly.ts 1000000

import { createAssignHandler } from '../../functions/assign/handler.ts';
import { generateCustomers } from '../../shared/sample/generate.ts';
import { publishModel } from '../../shared/workflows/promote.ts';
import { trainModel } from '../../shared/workflows/train.ts';
import { loadGeneratedCustomers, startBenchServices } from './local-services.ts';

const MODEL_ROWS = 2_000;

const SCHEDULED = {
  version: '0',
  id: 'bench',
  'detail-type': 'Scheduled Event',
  source: 'aws.events',
  time: '2026-11-30T02:00:00Z',
  resources: [],
  detail: {},
};

export interface NightlyFigures {
  readonly rows: number;
  readonly wallMs: number;
  readonly labeled: number;
  readonly calls: number;
  readonly responseBytes: number;
  readonly slowestCallMs: number;
}

/** Loads `rows` unlabeled customers, promotes a k = 5 model, and times one nightly invocation. */
export async function benchNightly(rows: number): Promise<NightlyFigures> {
  const services = await startBenchServices('nightly', 0);
  try {
    const { aws } = services;
    await loadGeneratedCustomers(aws.db.repo.pool, rows);
    const customers = [...generateCustomers({ rows: MODEL_ROWS, seed: 7 })];
    const model = trainModel(
      { source: 'bench', customers, rowsRead: MODEL_ROWS, rowsRejected: 0, duplicates: 0 },
      { k: 5, restarts: 3, seed: 0 },
      new Date(),
    );
    const runtime = aws.runtime();
    await publishModel(runtime.store, model, { promote: true, autoPromote: true, now: () => new Date() });
    const before = { ...aws.dataApi.stats };
    const started = performance.now();
    const outcome = (await createAssignHandler(runtime)(SCHEDULED)) as { labeled?: number };
    const wallMs = performance.now() - started;
    const labeled = outcome.labeled ?? 0;
    if (labeled !== rows) throw new Error(`the nightly run labeled ${labeled} of ${rows} customers: ${JSON.stringify(outcome)}`);
    return {
      rows,
      wallMs,
      labeled,
      calls: aws.dataApi.stats.executeCalls - before.executeCalls,
      responseBytes: aws.dataApi.stats.responseBytes - before.responseBytes,
      slowestCallMs: aws.dataApi.stats.slowestCallMs,
    };
  } finally {
    await services.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  console.log(JSON.stringify(await benchNightly(rows)));
}
