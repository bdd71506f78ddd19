// Bench: the nightly labeling of a table of N customers, as the deployed assign function runs it —
// the real handler over the Data API emulator and PostgreSQL, the model in the local S3 bucket.
// Whole invocation timed (wall), with the CPU it took: this process's (the handler and the
// emulator) and the PostgreSQL server's (the labeling itself). By default the mall's customers and
// no added latency (the target is for the database's own work); `--schema` takes another
// customer schema (the table is migrated to it first, customers generated from it), `--latency`
// adds that many ms to every Data API call.
//
//   npx tsx test/bench/nightly.ts 1000000
//   npx tsx test/bench/nightly.ts 1000000 --schema shared/schema/examples/wholesale.json --latency 50

import { parseArgs } from 'node:util';
import { createAssignHandler } from '../../functions/assign/handler.ts';
import { readSchema } from '../../functions/cli/io.ts';
import { CustomerColumns } from '../../shared/csv/columns.ts';
import { generateCustomers, generateSchemaCustomers } from '../../shared/sample/generate.ts';
import type { CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { publishModel } from '../../shared/workflows/promote.ts';
import { trainModel } from '../../shared/workflows/train.ts';
import { databaseCpuMs, loadGeneratedCustomers, loadSchemaCustomers, startBenchServices } from './local-services.ts';

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
  readonly schema: string;
  readonly rows: number;
  readonly latencyMs: number;
  readonly wallMs: number;
  /** CPU of this process during the invocation: the handler and the Data API emulator. */
  readonly cpuMs: number;
  /** CPU of the PostgreSQL server's processes during the invocation (-1 where it cannot be read). */
  readonly databaseCpuMs: number;
  readonly labeled: number;
  readonly calls: number;
  readonly responseBytes: number;
  readonly slowestCallMs: number;
}

export interface NightlyOptions {
  /** The customer schema (default: the mall's, loaded as before). */
  readonly schema?: CustomerSchema;
  readonly latencyMs?: number;
}

/** Loads `rows` unlabeled customers, promotes a k = 5 model, and times one nightly invocation. */
export async function benchNightly(rows: number, options: NightlyOptions = {}): Promise<NightlyFigures> {
  const latencyMs = options.latencyMs ?? 0;
  const services = await startBenchServices('nightly', latencyMs);
  try {
    const { aws } = services;
    const pool = aws.db.repo.pool;
    const schema = options.schema;
    let model;
    if (schema === undefined) {
      await loadGeneratedCustomers(pool, rows);
      const customers = [...generateCustomers({ rows: MODEL_ROWS, seed: 7 })];
      model = trainModel(
        { source: 'bench', customers, rowsRead: MODEL_ROWS, rowsRejected: 0, duplicates: 0 },
        { k: 5, restarts: 3, seed: 0 },
        new Date(),
      );
    } else {
      await loadSchemaCustomers(pool, schema, rows);
      const customers = CustomerColumns.from([...generateSchemaCustomers(schema, { rows: MODEL_ROWS, seed: 7 })], schema);
      model = trainModel(
        { source: 'bench', customers, rowsRead: MODEL_ROWS, rowsRejected: 0, duplicates: 0 },
        { k: 5, maxK: 5, restarts: 3, seed: 0 },
        new Date(),
      );
    }
    const runtime = aws.runtime();
    await publishModel(runtime.store, model, { promote: true, autoPromote: true, now: () => new Date() });
    const before = { ...aws.dataApi.stats };
    const databaseBefore = await databaseCpuMs(pool);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const outcome = (await createAssignHandler(runtime)(SCHEDULED)) as { labeled?: number };
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    const databaseAfter = await databaseCpuMs(pool);
    const labeled = outcome.labeled ?? 0;
    if (labeled !== rows) throw new Error(`the nightly run labeled ${labeled} of ${rows} customers: ${JSON.stringify(outcome)}`);
    return {
      schema: schema?.name ?? 'mall',
      rows,
      latencyMs,
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      databaseCpuMs: databaseBefore === null || databaseAfter === null ? -1 : databaseAfter - databaseBefore,
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
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { schema: { type: 'string' }, latency: { type: 'string' } },
  });
  const rows = Number(positionals[0] ?? 1_000_000);
  const schema = values.schema === undefined ? undefined : await readSchema(values.schema);
  console.log(JSON.stringify(await benchNightly(rows, { schema, latencyMs: Number(values.latency ?? 0) })));
}
