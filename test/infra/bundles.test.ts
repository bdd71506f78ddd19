// The deployable bundles: synthesizes with the real NodejsFunction bundling (local esbuild, no
// Docker), then imports each function's index.mjs in Node, as Lambda's ESM loader would.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { synth, type Synthesized } from './synth.ts';

let bundled: Synthesized;

beforeAll(() => {
  bundled = synth({}, { bundle: true });
}, 120_000);

afterAll(() => bundled?.remove());

function bundleDir(fn: { node: { defaultChild?: unknown } }): string {
  const resource = bundled.json.Resources[bundled.logicalId(fn)];
  const assetPath = resource?.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') throw new Error('the function has no asset');
  return join(bundled.outdir, assetPath);
}

describe('function bundles', () => {
  const functions = () =>
    ({
      train: bundled.stack.train.function,
      ingest: bundled.stack.ingest.function,
      assign: bundled.stack.assign.function,
      migrate: bundled.stack.migrations.handler.function,
    }) as const;

  for (const name of ['train', 'ingest', 'assign', 'migrate'] as const) {
    it(`${name}: index.mjs with its source map imports in Node and exports a handler`, async () => {
      const dir = bundleDir(functions()[name]);
      expect(existsSync(join(dir, 'index.mjs'))).toBe(true);
      expect(existsSync(join(dir, 'index.mjs.map'))).toBe(true);
      const mod = (await import(pathToFileURL(join(dir, 'index.mjs')).href)) as { handler?: unknown };
      expect(typeof mod.handler).toBe('function');
    });
  }

  it('each function has its own bundle', () => {
    const dirs = Object.values(functions()).map(bundleDir);
    expect(new Set(dirs).size).toBe(dirs.length);
  });
});
