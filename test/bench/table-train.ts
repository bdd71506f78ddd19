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

import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { DataApiCustomerRepository } from '../../functions/adapters/data-api-customer-repository.ts';
import { PgSqlClient } from '../../functions/adapters/pg-sql-client.ts';
import { readSchema } from '../../functions/cli/io.ts';
import { createTrainHandler } from '../../functions/train/handler.ts';
import { generateSchemaCustomers } from '../../shared/sample/generate.ts';
import type { CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { columnType, quoteIdentifier, SqlCustomerTable } from '../../shared/sql/customer-table.ts';
import { CLUSTER_ARN, SECRET_ARN } from '../support/aws-local.ts';
import { BENCH_LATENCY_MS, loadGeneratedCustomers, startBenchServices } from './local-services.ts';

/** Clock ticks per second of /proc/<pid>/stat's CPU times (Linux's USER_HZ). */
const TICKS_PER_SECOND = 100;

/**
 * CPU time (user + system, ms) of this bench's PostgreSQL server so far: its postmaster (found by
 * its data directory under `segments-bench-table-train-`) and every process under it, from /proc,
 * with what their ended children used (a backend whose connection closed, a parallel worker,
 * counts in the postmaster's children's times once reaped); null off Linux.
 */
function databaseCpuMs(): number | null {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return null;
  }
  const processes = new Map<number, { parent: number; ticks: number; command: string }>();
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      processes.set(Number(pid), {
        parent: Number(fields[1]),
        ticks: Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]),
        command,
      });
    } catch {
      // the process ended while being read
    }
  }
  const roots = [...processes].filter(([, p]) => p.command.includes('segments-bench-table-train-')).map(([pid]) => pid);
  if (roots.length === 0) return null;
  let ticks = 0;
  for (const [pid, p] of processes) {
    for (let at: number | undefined = pid; at !== undefined && at > 1; at = processes.get(at)?.parent) {
      if (roots.includes(at)) {
        ticks += p.ticks;
        break;
      }
    }
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

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

/** Rows per INSERT when the table of another schema is filled (an array parameter per column). */
const LOAD_ROWS = 50_000;

/**
 * Gives the customers table `schema`'s columns and fills it with `rows` customers generated for it
 * (`generate --schema … --rows N --seed`'s), unlabeled, straight through pg: setting up a benchmark.
 */
export async function loadSchemaCustomers(pool: pg.Pool, schema: CustomerSchema, rows: number, seed = 1): Promise<void> {
  await new SqlCustomerTable(new PgSqlClient(pool)).apply(schema);
  const names = schema.features.map((f) => f.name);
  const columns: unknown[][] = [[], ...names.map(() => [])];
  const arrays = [`$1::text[]`, ...schema.features.map((f, i) => `$${i + 2}::${columnType(f)}[]`)];
  const flush = async (): Promise<void> => {
    if (columns[0]!.length === 0) return;
    await pool.query(
      `INSERT INTO customers (customer_id, ${names.map(quoteIdentifier).join(', ')}) SELECT * FROM unnest(${arrays.join(', ')})`,
      columns,
    );
    for (const list of columns) list.length = 0;
  };
  for (const c of generateSchemaCustomers(schema, { rows, seed })) {
    columns[0]!.push(c.customerId);
    names.forEach((name, i) => columns[i + 1]!.push(c[name]));
    if (columns[0]!.length === LOAD_ROWS) await flush();
  }
  await flush();
  await pool.query('ANALYZE customers');
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
    const runtime = schema === undefined ? cold : { ...cold, repo, schema };
    const before = { ...aws.dataApi.stats };
    aws.dataApi.stats.slowestCallMs = 0;
    const dbCpu = databaseCpuMs();
    const cpu = process.cpuUsage();
    const started = performance.now();
    const outcome = (await createTrainHandler(runtime)({ source: 'database', k: k === 0 ? 'auto' : k })) as {
      status?: string;
      modelVersion?: string;
    };
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    const dbCpuAfter = databaseCpuMs();
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
