// Bench: training from a table of N customers, as the deployed train function runs it — the real
// handler ({"source": "database"}) over the Data API emulator adding 50 ms to every call and
// PostgreSQL, the model and report into the local S3 bucket. The whole invocation is timed: the
// copy, the sample, the sweep and restarts, the refinement, the figures, the membership, the
// labeling of the table with the promoted model, and the report. With --schema, the table has that
// customer schema's columns (applied as `segments db migrate --schema` applies it) and holds
// customers generated for it; the function's repository is given the schema, as a deployment of
// it builds its functions with it.
//
//   npx tsx test/bench/table-train.ts 1000000 [k | auto] [--schema shared/schema/examples/wholesale.json]

import { setTimeout } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { DataApiCustomerRepository } from '../../functions/adapters/data-api-customer-repository.ts';
import { readSchema } from '../../functions/cli/io.ts';
import { createTrainHandler } from '../../functions/train/handler.ts';
import type { CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { CLUSTER_ARN, SECRET_ARN } from '../support/aws-local.ts';
import { BENCH_LATENCY_MS, databaseCpuMs, loadGeneratedCustomers, loadSchemaCustomers, startBenchServices } from './local-services.ts';

/** Longer than pg.Pool's idle timeout (10 s). */
const IDLE_CLOSE_MS = 11_000;

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
  /** CPU time of this process during the invocation (the handler, and the emulator and S3 server it hosts). */
  readonly processCpuMs: number;
  /** CPU time of the PostgreSQL server during the invocation (-1 where it cannot be read). */
  readonly databaseCpuMs: number;
}

/**
 * Loads `rows` unlabeled customers (of `schema` when given, else the mall's) and times one train
 * invocation from the table (k given, or 'auto' as 0).
 */
export async function benchTableTrain(rows: number, k: number = DEFAULT_K, schema?: CustomerSchema): Promise<TableTrainFigures> {
  const services = await startBenchServices('table-train', BENCH_LATENCY_MS);
  try {
    const { aws } = services;
    if (schema === undefined) await loadGeneratedCustomers(aws.db.repo.pool, rows);
    else await loadSchemaCustomers(aws.db.repo.pool, schema, rows);
    // the loading connections close when idle (pg's 10 s): their backends' CPU, reaped during the
    // invocation, would count as the invocation's
    await setTimeout(IDLE_CLOSE_MS);
    const cold = aws.runtime();
    const repo =
      schema === undefined
        ? cold.repo
        : new DataApiCustomerRepository(
            { resourceArn: CLUSTER_ARN, secretArn: SECRET_ARN, database: aws.env.DB_NAME! },
            undefined,
            undefined,
            schema,
          );
    const runtime = schema === undefined ? cold : { ...cold, repo };
    const before = { ...aws.dataApi.stats };
    aws.dataApi.stats.slowestCallMs = 0;
    const dbCpu = await databaseCpuMs(aws.db.repo.pool);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const outcome = (await createTrainHandler(runtime)({ source: 'database', k: k === 0 ? 'auto' : k })) as {
      status?: string;
      modelVersion?: string;
    };
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const dbCpuAfter = await databaseCpuMs(aws.db.repo.pool);
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
      processCpuMs: (used.user + used.system) / 1000,
      databaseCpuMs: dbCpu === null || dbCpuAfter === null ? -1 : dbCpuAfter - dbCpu,
    };
  } finally {
    await services.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values, positionals } = parseArgs({ options: { schema: { type: 'string' } }, allowPositionals: true });
  const rows = Number(positionals[0] ?? 1_000_000);
  const k = positionals[1] === 'auto' ? 0 : Number(positionals[1] ?? DEFAULT_K);
  const schema = values.schema === undefined ? undefined : await readSchema(values.schema);
  console.log(JSON.stringify(await benchTableTrain(rows, k, schema)));
}
