// The deployable bundles: synthesizes with the real NodejsFunction bundling (local esbuild, no
// Docker), then loads each function's index.mjs in a plain Node process, as Lambda's ESM loader
// would, and calls the handler far enough to reach its configuration check. Built with a
// nine-feature customer schema (`-c schema=…`), which the bundles carry.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSchemaJson } from '../../functions/adapters/deployed-schema.ts';
import { parseCustomerSchema } from '../../shared/schema/customer-schema.ts';
import { schemaDir, wholesaleSchemaJson } from './schemas.ts';
import { synth, type Synthesized } from './synth.ts';

let bundled: Synthesized;
let loaded: Record<string, { handler: string; error: string; errorName: string; firstLine: string; hasMap: boolean }>;
let files: Record<string, string>;
const schemaFiles = schemaDir();

const NAMES = ['train', 'ingest', 'assign', 'migrate'] as const;

/** Runs in a fresh `node` with an empty environment: import, check, call with {}. */
const PROBE = `
import { existsSync, readFileSync } from 'node:fs';
const out = {};
for (const [name, file] of JSON.parse(process.argv[1])) {
  const mod = await import(file);
  let error = '';
  let errorName = '';
  try { await mod.handler({}); } catch (e) { error = String(e?.message ?? e); errorName = String(e?.name); }
  const path = new URL(file).pathname;
  out[name] = { handler: typeof mod.handler, error, errorName, firstLine: readFileSync(path, 'utf8').split('\\n', 1)[0], hasMap: existsSync(path + '.map') };
}
console.log(JSON.stringify(out));
`;

/** The staged asset directory of a function, found through the stack's asset manifest. */
function bundleDir(fn: { node: { defaultChild?: unknown } }): string {
  const code = bundled.json.Resources[bundled.logicalId(fn)]?.Properties?.Code as { S3Key?: string } | undefined;
  const manifest = JSON.parse(readFileSync(join(bundled.outdir, `${bundled.stack.artifactId}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string }; destinations: Record<string, { objectKey: string }> }>;
  };
  const asset = Object.values(manifest.files).find((f) => Object.values(f.destinations).some((d) => d.objectKey === code?.S3Key));
  if (asset === undefined) throw new Error(`no asset for ${code?.S3Key}`);
  return join(bundled.outdir, asset.source.path);
}

beforeAll(() => {
  bundled = synth({ schema: schemaFiles.write('wholesale.json', wholesaleSchemaJson()) }, { bundle: true });
  const fns = {
    train: bundled.stack.train,
    ingest: bundled.stack.ingest,
    assign: bundled.stack.assign,
    migrate: bundled.stack.migrations.handler,
  };
  files = Object.fromEntries(NAMES.map((name) => [name, join(bundleDir(fns[name].function), 'index.mjs')]));
  const urls = NAMES.map((name) => [name, pathToFileURL(files[name]!).href]);
  const run = spawnSync(process.execPath, ['--input-type=module', '--enable-source-maps', '-e', PROBE, JSON.stringify(urls)], {
    env: { PATH: process.env.PATH ?? '' },
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`loading the bundles failed:\n${run.stderr}`);
  loaded = JSON.parse(run.stdout.trim().split('\n').pop()!) as typeof loaded;
}, 120_000);

afterAll(() => {
  bundled?.remove();
  schemaFiles.remove();
});

describe('function bundles', () => {
  for (const name of NAMES) {
    it(`${name}: index.mjs loads in Node, exports a handler, and runs to the configuration check`, () => {
      const result = loaded[name]!;
      expect(result.handler).toBe('function');
      expect(result.hasMap).toBe(true);
      expect(result.firstLine).toContain('createRequire');
      // an empty environment: the bundled config parser names the missing variables
      expect(result.error).toMatch(
        name === 'migrate' ? /^configuration: DB_CLUSTER_ARN is not set/ : /^configuration: DATA_BUCKET is not set/,
      );
      // minified with names kept: the logs and failure summaries name our error classes
      expect(result.errorName).toBe('ConfigError');
    });
  }

  it('the migrate bundle carries the customer schema given to the synth, as its canonical JSON', () => {
    // esbuild writes the defined string literal in the quotes that need no escaping: the JSON appears as is.
    // (train, ingest and assign carry it too once their handlers call deployedSchema(): esbuild
    // drops a define nothing reads)
    const canonical = canonicalSchemaJson(parseCustomerSchema(wholesaleSchemaJson(), 'wholesale.json'));
    expect(readFileSync(files.migrate!, 'utf8')).toContain(canonical);
  });
});
