// Bundle sizes of the Lambda functions, built exactly as `cdk synth` builds them (the stack's own
// NodejsFunction bundling, local esbuild), with the packages that weigh most in each bundle; with
// --cold-starts N, each bundle's cold start timed as N whole Node processes per function.
// Run: npm run bundle-sizes [-- --cold-starts 15]

import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { deflateRawSync } from 'node:zlib';
import type { CfnElement } from 'aws-cdk-lib';
import { PROJECT_ROOT } from '../../infra/constructs/segmentation-function.ts';
import { createSegmentationApp } from '../../infra/segmentation-app.ts';

const TOP_PACKAGES = 6;
const KIB = 1024;
const ZIP_LEVEL = 9;
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VLQ_CONTINUATION = 32;
const VLQ_MASK = 31;
const VLQ_SHIFT = 5;

/** Decodes one source-map mappings segment into its numbers (base64 VLQ). */
function decodeSegment(segment: string): number[] {
  const values: number[] = [];
  let value = 0;
  let shift = 0;
  for (const char of segment) {
    const digit = BASE64.indexOf(char);
    value += (digit & VLQ_MASK) << shift;
    if (digit & VLQ_CONTINUATION) {
      shift += VLQ_SHIFT;
    } else {
      values.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return values;
}

/** The package a bundled source belongs to (`@aws-sdk/client-s3`, `zod`, or `(project)`). */
function packageOf(source: string): string {
  const at = source.lastIndexOf('node_modules/');
  if (at < 0) return '(project)';
  const parts = source.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Output bytes per package, from the bundle's source map (unmapped bytes: esbuild's runtime). */
function bytesByPackage(code: string, map: { sources: string[]; mappings: string }): Map<string, number> {
  const lines = code.split('\n');
  const totals = new Map<string, number>();
  let source = 0;
  map.mappings.split(';').forEach((line, lineIndex) => {
    const length = lines[lineIndex]?.length ?? 0;
    const segments = line === '' ? [] : line.split(',').map(decodeSegment);
    let column = 0;
    const starts: Array<{ column: number; source: number | null }> = [];
    for (const fields of segments) {
      column += fields[0]!;
      if (fields.length >= 4) source += fields[1]!;
      starts.push({ column, source: fields.length >= 4 ? source : null });
    }
    starts.forEach((start, i) => {
      const end = starts[i + 1]?.column ?? length;
      const name = start.source === null ? '(esbuild runtime)' : packageOf(map.sources[start.source] ?? '');
      totals.set(name, (totals.get(name) ?? 0) + end - start.column);
    });
  });
  return totals;
}

const kib = (bytes: number) => `${(bytes / KIB).toFixed(0)} KiB`;

/**
 * The first event each function gets in a cold-start run: one it answers without a network call
 * (a refused request; for the migration, a stack deletion), after building its runtime.
 */
const CHEAP_EVENTS: Readonly<Record<string, unknown>> = {
  train: {},
  ingest: { hello: 'world' },
  assign: { hello: 'world' },
  migrate: { RequestType: 'Delete', PhysicalResourceId: 'customer-segmentation-schema' },
};

/** A configuration that passes the functions' checks, with made-up resources; source maps on, as deployed. */
const COLD_START_ENV = {
  PATH: process.env.PATH ?? '',
  NODE_OPTIONS: '--enable-source-maps',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
  DATA_BUCKET: 'bench-bucket',
  DB_CLUSTER_ARN: 'arn:aws:rds:us-east-1:123456789012:cluster:bench',
  DB_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:bench',
  DB_NAME: 'segments',
  LOG_LEVEL: 'CRITICAL',
};

/** One cold start in this process: the bundle's import (Lambda's init), then its first invocation. */
const COLD_START_PROBE = `
const [file, event] = process.argv.slice(1);
const t0 = performance.now();
const mod = await import(file);
const t1 = performance.now();
await mod.handler(JSON.parse(event));
const t2 = performance.now();
const cpu = process.cpuUsage();
console.log(JSON.stringify({ importMs: t1 - t0, firstMs: t2 - t1, processMs: t2, cpuMs: (cpu.user + cpu.system) / 1000 }));
`;

interface ColdStart {
  readonly importMs: number;
  readonly firstMs: number;
  /** From the process's start to the first answer. */
  readonly processMs: number;
  /** CPU time of the process (all threads) until the first answer. */
  readonly cpuMs: number;
}

function coldStart(bundle: BuiltBundle): ColdStart {
  const file = pathToFileURL(join(bundle.dir, 'index.mjs')).href;
  const run = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', COLD_START_PROBE, file, JSON.stringify(CHEAP_EVENTS[bundle.name] ?? {})],
    { env: COLD_START_ENV, encoding: 'utf8' },
  );
  if (run.status !== 0) throw new Error(`${bundle.name}: the cold start failed:\n${run.stderr}`);
  return JSON.parse(run.stdout.trim().split('\n').pop()!) as ColdStart;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Times `runs` cold starts of every bundle, the functions taking turns; returns the medians. */
export function coldStarts(bundles: readonly BuiltBundle[], runs: number): Map<string, ColdStart> {
  const samples = new Map<string, ColdStart[]>(bundles.map((b) => [b.name, []]));
  for (let i = 0; i < runs; i++) for (const b of bundles) samples.get(b.name)!.push(coldStart(b));
  return new Map(
    [...samples].map(([name, list]) => [
      name,
      {
        importMs: median(list.map((s) => s.importMs)),
        firstMs: median(list.map((s) => s.firstMs)),
        processMs: median(list.map((s) => s.processMs)),
        cpuMs: median(list.map((s) => s.cpuMs)),
      },
    ]),
  );
}

export interface BuiltBundle {
  readonly name: string;
  /** Directory holding index.mjs and its source map, as CDK staged it. */
  readonly dir: string;
  readonly bytes: number;
  readonly mapBytes: number;
  readonly zippedBytes: number;
  /** The packages that weigh most in index.mjs, largest first. */
  readonly largest: readonly [string, number][];
}

/** Synthesizes the app (bundling every function) into `outdir`; returns each bundle's figures. */
export function buildBundles(outdir: string): BuiltBundle[] {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const { app, stack } = createSegmentationApp({ outdir, context: cdkJson.context, builtinCloudFormationValidation: false });
  const assembly = app.synth();
  const template = assembly.getStackArtifact(stack.artifactId).template as {
    Resources: Record<string, { Properties?: { Code?: { S3Key?: string } } }>;
  };
  const manifest = JSON.parse(readFileSync(join(outdir, `${stack.artifactId}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  const functions = { train: stack.train, ingest: stack.ingest, assign: stack.assign, migrate: stack.migrations.handler };
  return Object.entries(functions).map(([name, fn]) => {
    const logicalId = stack.resolve((fn.function.node.defaultChild as CfnElement).logicalId) as string;
    const key = template.Resources[logicalId]?.Properties?.Code?.S3Key;
    const asset = Object.values(manifest.files).find((f) => Object.values(f.destinations).some((d) => d.objectKey === key));
    if (asset === undefined) throw new Error(`no asset for ${name}`);
    const dir = join(outdir, asset.source.path);
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    const mapText = readFileSync(join(dir, 'index.mjs.map'), 'utf8');
    const zippedBytes = deflateRawSync(code, { level: ZIP_LEVEL }).length + deflateRawSync(mapText, { level: ZIP_LEVEL }).length;
    const largest = [...bytesByPackage(code, JSON.parse(mapText) as { sources: string[]; mappings: string })]
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP_PACKAGES);
    return {
      name,
      dir,
      bytes: statSync(join(dir, 'index.mjs')).size,
      mapBytes: statSync(join(dir, 'index.mjs.map')).size,
      zippedBytes,
      largest,
    };
  });
}

function main(): void {
  const at = process.argv.indexOf('--cold-starts');
  const runs = at < 0 ? 0 : Number(process.argv[at + 1]);
  if (!(Number.isInteger(runs) && runs >= 0)) throw new Error('--cold-starts takes a whole number of runs');
  const outdir = mkdtempSync(join(tmpdir(), 'segments-bundles-'));
  try {
    const bundles = buildBundles(outdir);
    console.log('function  index.mjs  index.mjs.map  zipped (≈ deployment package)');
    for (const b of bundles)
      console.log(`${b.name.padEnd(8)}  ${kib(b.bytes).padStart(9)}  ${kib(b.mapBytes).padStart(13)}  ${kib(b.zippedBytes).padStart(8)}`);
    const details = bundles.map((b) => `${b.name}: ${b.largest.map(([pkg, bytes]) => `${pkg} ${kib(bytes)}`).join(', ')}`);
    console.log(`\nlargest packages in each index.mjs (minified bytes):\n${details.join('\n')}`);
    if (runs > 0) {
      const ms = (value: number) => `${value.toFixed(0)} ms`.padStart(8);
      console.log(
        `\ncold starts, medians of ${runs} Node processes each (import = init; first = runtime built, a refused event answered):`,
      );
      console.log('function    import     first  to answer  CPU to answer');
      for (const [name, c] of coldStarts(bundles, runs))
        console.log(`${name.padEnd(8)}  ${ms(c.importMs)}  ${ms(c.firstMs)}  ${ms(c.processMs)}  ${ms(c.cpuMs).padStart(13)}`);
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) main();
