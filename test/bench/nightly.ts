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

import { readdir, readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { createAssignHandler } from '../../functions/assign/handler.ts';
import { PgSqlClient } from '../../functions/adapters/pg-sql-client.ts';
import { CustomerColumns } from '../../shared/csv/columns.ts';
import { generateCustomers, generateSchemaCustomers } from '../../shared/sample/generate.ts';
import { parseCustomerSchema, type CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { columnType, quoteIdentifier, SqlCustomerTable } from '../../shared/sql/customer-table.ts';
import { publishModel } from '../../shared/workflows/promote.ts';
import { trainModel } from '../../shared/workflows/train.ts';
import { loadGeneratedCustomers, startBenchServices } from './local-services.ts';

const MODEL_ROWS = 2_000;
/** Rows per INSERT when the table is filled with another schema's customers (arrays, one per column). */
const LOAD_ROWS = 50_000;
/** Clock ticks per second of /proc's CPU times (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

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
  /** CPU of the PostgreSQL server's processes during the invocation. */
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

/**
 * CPU time (ms) of the PostgreSQL server of `pool`: its postmaster and the processes it runs, and
 * those that ended (the pool's idle connections close), which the postmaster's children times hold.
 */
async function databaseCpuMs(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query('SHOW data_directory');
  const postmaster = Number((await readFile(`${rows[0].data_directory}/postmaster.pid`, 'utf8')).split('\n')[0]);
  let ticks = 0;
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (stat === null) continue;
    // fields after the command name (which may hold spaces): state ppid … utime(14) stime(15)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pid = Number(entry);
    if (pid !== postmaster && Number(fields[1]) !== postmaster) continue;
    ticks += Number(fields[11]) + Number(fields[12]);
    if (pid === postmaster) ticks += Number(fields[13]) + Number(fields[14]);
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** Fills the customers table with `rows` generated customers of `schema`, unlabeled, straight through pg (bench setup). */
async function loadSchemaCustomers(pool: pg.Pool, schema: CustomerSchema, rows: number): Promise<void> {
  const columns = schema.features.map((f) => quoteIdentifier(f.name));
  const types = schema.features.map((f) => columnType(f));
  const ids: string[] = [];
  const values: Array<Array<string | number>> = schema.features.map(() => []);
  const flush = async (): Promise<void> => {
    if (ids.length === 0) return;
    const arrays = types.map((type, n) => `$${n + 2}::${type}[]`);
    await pool.query(`INSERT INTO customers (customer_id, ${columns.join(', ')}) SELECT * FROM unnest($1::text[], ${arrays.join(', ')})`, [
      ids,
      ...values,
    ]);
    ids.length = 0;
    for (const list of values) list.length = 0;
  };
  for (const c of generateSchemaCustomers(schema, { rows, seed: 1 })) {
    ids.push(c.customerId);
    schema.features.forEach((f, n) => values[n]!.push(c[f.name]!));
    if (ids.length === LOAD_ROWS) await flush();
  }
  await flush();
  await pool.query('ANALYZE customers');
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
      await new SqlCustomerTable(new PgSqlClient(pool)).apply(schema);
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
    const databaseMs = (await databaseCpuMs(pool)) - databaseBefore;
    const labeled = outcome.labeled ?? 0;
    if (labeled !== rows) throw new Error(`the nightly run labeled ${labeled} of ${rows} customers: ${JSON.stringify(outcome)}`);
    return {
      schema: schema?.name ?? 'mall',
      rows,
      latencyMs,
      wallMs,
      cpuMs: (cpu.user + cpu.system) / 1000,
      databaseCpuMs: databaseMs,
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
  const schema =
    values.schema === undefined ? undefined : parseCustomerSchema(JSON.parse(await readFile(values.schema, 'utf8')), values.schema);
  console.log(JSON.stringify(await benchNightly(rows, { schema, latencyMs: Number(values.latency ?? 0) })));
}
