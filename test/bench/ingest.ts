// The ingest bench: one invocation of the real ingest handler (createIngestHandler over a runtime
// on the local S3 server, the Data API emulator with BENCH_LATENCY_MS per call, and PostgreSQL) on
// a generated upload of N rows, with an active model. The services run in a child process, so the
// heap and RSS growth reported are the handler's own. Also run by npm run bench (benchIngest).
//
//   npx tsx test/bench/ingest.ts 1000000

import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { getHeapStatistics } from 'node:v8';
import type { Context } from 'aws-lambda';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { loadConfig } from '../../functions/config.ts';
import { createIngestHandler } from '../../functions/ingest/handler.ts';
import { createRuntime } from '../../functions/runtime.ts';
import { generateCsv, generateCustomers } from '../../shared/sample/generate.ts';
import { publishModel } from '../../shared/workflows/promote.ts';
import { trainModel } from '../../shared/workflows/train.ts';
import { s3Event } from '../support/aws-local.ts';
import { BENCH_LATENCY_MS, startBenchServices } from './local-services.ts';

const SERVICES_FLAG = '--services';
const KEY = 'uploads/customers/bench.csv';
/** The model the upload is labeled with: trained on this many generated rows (another seed than the upload's). */
const MODEL_ROWS = 10_000;
const MODEL_K = 5;
/** How often the handler's heap and RSS are sampled while it runs. */
const SAMPLE_MS = 20;
const MB = 1024 * 1024;

/** What the services process tells the bench once it is ready. */
interface Ready {
  readonly env: Record<string, string>;
  /** The AWS SDK's variables the services set (endpoints, credentials, checksums). */
  readonly sdkEnv: Record<string, string>;
  readonly bucket: string;
  readonly etag: string;
}

/** What the services process counts after the run. */
interface Counted {
  readonly tableRows: number;
  readonly labeledInTable: number;
  readonly labeledLines: number;
  readonly labeledDistinctIds: number;
  readonly progressRows: number;
  readonly dataApiCalls: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
  readonly slowestCallMs: number;
}

/** The services side: PostgreSQL, S3 and the emulator, an active model and the upload; then answers 'count' and 'close'. */
async function serve(rows: number): Promise<void> {
  const services = await startBenchServices('ingest', BENCH_LATENCY_MS);
  const { aws } = services;
  const customers = [...generateCustomers({ rows: MODEL_ROWS, seed: 2 })];
  const model = trainModel(
    { source: 'bench', customers, rowsRead: MODEL_ROWS, rowsRejected: 0, duplicates: 0 },
    { k: MODEL_K, maxK: MODEL_K, restarts: 3 },
    new Date(),
  );
  await publishModel(aws.runtime().store, model, { promote: true, autoPromote: true, now: () => new Date() });
  const etag = await aws.put(KEY, [...generateCsv({ rows, seed: 1 })].join(''));
  const sdkEnv = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => name.startsWith('AWS_') || name.startsWith('POWERTOOLS_')),
  );
  const before = { ...aws.dataApi.stats };
  const ready: Ready = { env: aws.env, sdkEnv: sdkEnv as Record<string, string>, bucket: aws.s3.bucket, etag };
  process.send!(ready);
  process.on('message', (message) => {
    void (async () => {
      if (message === 'count') {
        const { pool } = aws.db.repo;
        const table = await pool.query('SELECT count(*)::int AS n, count(segment)::int AS labeled FROM customers');
        const progress = await pool.query('SELECT count(*)::int AS n FROM ingest_batches');
        const ids = new Set<string>();
        let lines = 0;
        const object = await aws.s3.client.send(
          new GetObjectCommand({ Bucket: aws.s3.bucket, Key: 'results/customers/bench/labeled.csv' }),
        );
        let rest = '';
        for await (const chunk of object.Body as AsyncIterable<Uint8Array>) {
          const parts = (rest + Buffer.from(chunk).toString('utf8')).split('\n');
          rest = parts.pop()!;
          for (const line of parts) {
            if (lines++ > 0) ids.add(line.slice(0, line.indexOf(',')));
          }
        }
        const { stats } = aws.dataApi;
        const counted: Counted = {
          tableRows: table.rows[0].n,
          labeledInTable: table.rows[0].labeled,
          labeledLines: lines - 1,
          labeledDistinctIds: ids.size,
          progressRows: progress.rows[0].n,
          dataApiCalls: stats.executeCalls - before.executeCalls,
          requestBytes: stats.requestBytes - before.requestBytes,
          responseBytes: stats.responseBytes - before.responseBytes,
          slowestCallMs: stats.slowestCallMs,
        };
        process.send!(counted);
      } else if (message === 'close') {
        await services.close();
        process.exit(0);
      }
    })();
  });
}

const nextMessage = <T>(child: ChildProcess): Promise<T> =>
  new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`the bench services stopped (exit code ${code})`));
    child.once('exit', onExit);
    child.once('message', (message) => {
      child.off('exit', onExit);
      resolve(message as T);
    });
  });

/** The invocation context Lambda passes (what the handler reads: the request id, for the claim). */
function benchContext(): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: 'CustomerSegmentation-IngestFunction',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:CustomerSegmentation-IngestFunction',
    memoryLimitInMB: '1769',
    awsRequestId: globalThis.crypto.randomUUID(),
    logGroupName: 'bench',
    logStreamName: 'bench',
    getRemainingTimeInMillis: () => 900_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * One ingest of a generated `rows`-row upload with an active model: wall and CPU time of the
 * invocation, the growth of this process's heap and RSS over it (peaks), the rows in the table and
 * the lines of labeled.csv, and the Data API traffic.
 */
export async function benchIngest(rows: number): Promise<Record<string, number>> {
  const child = fork(fileURLToPath(import.meta.url), [SERVICES_FLAG, String(rows)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  try {
    const ready = await nextMessage<Ready>(child);
    Object.assign(process.env, ready.sdkEnv);
    const handler = createIngestHandler(createRuntime(loadConfig(ready.env)));
    (globalThis as { gc?: () => void }).gc?.();
    const rssBefore = process.memoryUsage().rss;
    const heapBefore = getHeapStatistics().used_heap_size;
    let rssPeak = rssBefore;
    let heapPeak = heapBefore;
    const sample = setInterval(() => {
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      heapPeak = Math.max(heapPeak, getHeapStatistics().used_heap_size);
    }, SAMPLE_MS);
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const result = await handler(s3Event(ready.bucket, [{ key: KEY, etag: ready.etag }]), benchContext());
    const wallMs = performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sample);
    rssPeak = Math.max(rssPeak, process.resourceUsage().maxRSS * 1024);
    const status = result.results[0]?.outcome.status;
    if (status !== 'processed') throw new Error(`the ingest did not process the upload (${status})`);
    child.send('count');
    const counted = await nextMessage<Counted>(child);
    return {
      rows,
      latencyMs: BENCH_LATENCY_MS,
      wallMs: Math.round(wallMs),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      heapGrowthMb: Math.round((heapPeak - heapBefore) / MB),
      rssGrowthMb: Math.round((rssPeak - rssBefore) / MB),
      ...counted,
    };
  } finally {
    if (child.connected) child.send('close');
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
  }
}

const main = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (main && process.argv[2] === SERVICES_FLAG) {
  await serve(Number(process.argv[3]));
} else if (main) {
  const rows = Number(process.argv[2] ?? 1_000_000);
  if (!Number.isInteger(rows) || rows < 1) throw new Error('usage: npx tsx test/bench/ingest.ts <rows>');
  // one JSON line: npm run bench reads it
  process.stdout.write(`${JSON.stringify(await benchIngest(rows))}\n`);
}
