// An artifact written before customer schemas (schema version 1, see v1-artifact/README.md) stays
// the active model of an existing store: today's code reads it as the mall's schema and labels a
// file with it byte for byte as the code that wrote it did.

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseModel, serializeModel } from '../../../shared/model/artifact.ts';
import { MALL_SCHEMA } from '../../../shared/schema/customer-schema.ts';
import { runSegments } from '../../support/cli.ts';
import { withTempDir } from '../../support/temp.ts';

const here = join(import.meta.dirname, 'v1-artifact');
const fixture = (name: string): Promise<string> => readFile(join(here, name), 'utf8');

let dir: { path: string; remove(): Promise<void> };
beforeEach(async () => {
  dir = await withTempDir('v1-artifact');
});
afterEach(() => dir.remove());

describe('a schema version 1 artifact', () => {
  it("reads as the mall's schema with the encoding's steps, everything else as written", async () => {
    const text = await fixture('model.json');
    const model = parseModel(text, 'model.json');
    expect(model.schemaVersion).toBe(1);
    expect(model.customerSchema).toEqual(MALL_SCHEMA);
    expect(model.encoding).toEqual(['transform', 'one-hot', 'standard-scale', 'weight']);
    const { customerSchema: _schema, encoding: _encoding, ...asWritten } = model;
    expect(JSON.parse(serializeModel(asWritten as never))).toEqual(JSON.parse(text));
  });

  it('labels new customers as the code that wrote it did, byte for byte', async () => {
    const model = parseModel(await fixture('model.json'), 'model.json');
    const store = join(dir.path, 'store');
    await mkdir(join(store, 'models', model.modelVersion), { recursive: true });
    await writeFile(join(store, 'models', model.modelVersion, 'model.json'), await fixture('model.json'));
    const pointer = { modelVersion: model.modelVersion, promotedAt: model.createdAt, previous: null };
    await writeFile(join(store, 'models', 'active.json'), JSON.stringify(pointer));
    const input = join(dir.path, 'new-customers.csv');
    await writeFile(input, await fixture('new-customers.csv'));
    const out = join(dir.path, 'labeled.csv');
    const run = await runSegments(['assign', input, '--store', store, '--out', out]);
    expect(run.code).toBe(0);
    expect(await readFile(out, 'utf8')).toBe(await fixture('labeled.csv'));
    expect(await readFile(join(dir.path, 'labeled.rejects.csv'), 'utf8')).toBe(await fixture('rejects.csv'));
  });
});
