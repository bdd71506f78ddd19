// One contract for every ModelStore: the local directory and the S3 bucket (through s3rver, its
// precondition layer and the unmodified S3 client) behave the same, promotions under contention
// included.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileModelStore } from '../../../functions/adapters/file-model-store.ts';
import { S3ModelStore } from '../../../functions/adapters/s3-model-store.ts';
import { ModelError, NotFoundError } from '../../../shared/errors.ts';
import type { ActivePointer, Model } from '../../../shared/model/artifact.ts';
import { serializeModel } from '../../../shared/model/artifact.ts';
import type { ModelStore } from '../../../shared/ports.ts';
import { generateCustomers } from '../../../shared/sample/generate.ts';
import { promoteModel, publishModel } from '../../../shared/workflows/promote.ts';
import { trainModel } from '../../../shared/workflows/train.ts';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startS3, type TestS3 } from '../../support/s3-server.ts';
import { withTempDir } from '../../support/temp.ts';

function model(seed: number, at: string): Model {
  const customers = [...generateCustomers({ rows: 60, seed })];
  return trainModel(
    { source: 'test', customers, rowsRead: 60, rowsRejected: 0, duplicates: 0 },
    { k: 2, maxK: 2, restarts: 2 },
    new Date(at),
  );
}

interface Subject {
  store: ModelStore;
  /** Writes raw bytes where a model version's model.json would be. */
  plant(version: string, text: string): Promise<void>;
  /** The bytes of models/active.json. */
  activeText(): Promise<string>;
}

/** Simultaneous calls, started together. */
const SIMULTANEOUS = 8;

/** A pointer to a made-up version (swapActive does not read the model). */
const pointer = (n: number, previous: string | null): ActivePointer => ({
  modelVersion: `20260601T0000${String(n).padStart(2, '0')}Z-aaaaaaaaaaaa`,
  promotedAt: '2026-06-01T00:00:00.000Z',
  previous,
});

let s3: TestS3;
let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  s3 = await startS3();
  dir = await withTempDir('store');
});
afterAll(async () => {
  await s3.close();
  await dir.remove();
});

const subjects: Record<string, () => Promise<Subject>> = {
  FileModelStore: async () => {
    const root = join(dir.path, String(Math.random()));
    return {
      store: new FileModelStore(root),
      plant: async (version, text) => {
        await mkdir(join(root, 'models', version), { recursive: true });
        await writeFile(join(root, 'models', version, 'model.json'), text);
      },
      activeText: () => readFile(join(root, 'models', 'active.json'), 'utf8'),
    };
  },
  S3ModelStore: async () => {
    const bucket = `store-${String(Math.random()).slice(2, 12)}`;
    await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
    const store = new S3ModelStore(bucket, s3.client);
    return {
      store,
      plant: async (version, text) => {
        await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: `models/${version}/model.json`, Body: text }));
      },
      activeText: async () =>
        await (await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: 'models/active.json' }))).Body!.transformToString(),
    };
  },
};

describe.each(Object.keys(subjects))('%s (ModelStore contract)', (name) => {
  const subject = (): Promise<Subject> => subjects[name]!();

  it('stores a model and reads back the same artifact, byte for byte', async () => {
    const { store } = await subject();
    const m = model(1, '2026-01-01T00:00:00Z');
    await store.putModel(m);
    expect(serializeModel(await store.getModel(m.modelVersion))).toBe(serializeModel(m));
    expect(await store.listModels()).toContain(m.modelVersion);
  });

  it('promotes on first publish, keeps the previous version, and follows an explicit promote:false', async () => {
    const { store } = await subject();
    const first = model(2, '2026-02-01T00:00:00Z');
    const second = model(3, '2026-02-02T00:00:00Z');
    const third = model(4, '2026-02-03T00:00:00Z');
    const now = () => new Date('2026-03-01T00:00:00Z');
    // with no model active, even promote:false promotes (something must be active)
    expect((await publishModel(store, first, { promote: false, autoPromote: false, now })).promoted).toBe(true);
    expect((await publishModel(store, second, { autoPromote: true, now })).promoted).toBe(true);
    expect(await store.getActive()).toEqual({
      modelVersion: second.modelVersion,
      promotedAt: '2026-03-01T00:00:00.000Z',
      previous: first.modelVersion,
    });
    expect((await publishModel(store, third, { promote: false, autoPromote: true, now })).promoted).toBe(false);
    expect((await store.getActive())?.modelVersion).toBe(second.modelVersion);
  });

  it('swaps the active pointer only from the pointer the caller read (compare-and-swap)', async () => {
    const { store } = await subject();
    const a = model(5, '2026-04-01T00:00:00Z');
    const b = model(6, '2026-04-02T00:00:00Z');
    await store.putModel(a);
    await store.putModel(b);
    const first = { modelVersion: a.modelVersion, promotedAt: '2026-04-03T00:00:00.000Z', previous: null };
    expect(await store.swapActive(null, first)).toBe(true);
    const second = { modelVersion: b.modelVersion, promotedAt: '2026-04-04T00:00:00.000Z', previous: a.modelVersion };
    expect(await store.swapActive(null, second)).toBe(false);
    expect(await store.getActive()).toEqual(first);
    expect(await store.swapActive(first, second)).toBe(true);
    expect(await store.getActive()).toEqual(second);
  });

  it('lets exactly one of simultaneous swaps from the same pointer win, and active.json is the winner’s', async () => {
    const { store, activeText } = await subject();
    // from no active model: every contender expects none
    const first = Array.from({ length: SIMULTANEOUS }, (_, i) => pointer(i, null));
    const firstWins = await Promise.all(first.map((next) => store.swapActive(null, next)));
    expect(firstWins.filter(Boolean)).toHaveLength(1);
    const winner = first[firstWins.indexOf(true)]!;
    expect(await store.getActive()).toEqual(winner);
    expect(await activeText()).toBe(`${JSON.stringify(winner, null, 2)}\n`);
    // from the winner's pointer: again exactly one
    const second = Array.from({ length: SIMULTANEOUS }, (_, i) => pointer(SIMULTANEOUS + i, winner.modelVersion));
    const secondWins = await Promise.all(second.map((next) => store.swapActive(winner, next)));
    expect(secondWins.filter(Boolean)).toHaveLength(1);
    const next = second[secondWins.indexOf(true)]!;
    expect(await store.getActive()).toEqual(next);
    expect(await activeText()).toBe(`${JSON.stringify(next, null, 2)}\n`);
    // a writer still holding the first pointer loses, and changes nothing
    expect(await store.swapActive(winner, pointer(99, winner.modelVersion))).toBe(false);
    expect(await store.getActive()).toEqual(next);
  });

  it('lands promotions made at the same time one after the other: each sees the one before it, none is lost', async () => {
    const { store } = await subject();
    const [a, ...contenders] = [5, 6, 7, 8].map((seed, i) => model(10 + seed, `2026-05-0${i + 1}T00:00:00Z`));
    for (const m of [a!, ...contenders]) await store.putModel(m);
    await promoteModel(store, a!.modelVersion, new Date('2026-05-10T00:00:00Z'));
    const pointers = await Promise.all(contenders.map((m) => promoteModel(store, m.modelVersion, new Date('2026-05-11T00:00:00Z'))));
    // a lost update shows as two promotions that both saw the same previous model
    const after = new Map(pointers.map((p) => [p.previous, p.modelVersion]));
    expect(after.size).toBe(contenders.length);
    // the history, followed from a, runs through every promoted model and ends at the active one
    const history: string[] = [];
    for (let v: string | undefined = after.get(a!.modelVersion); v !== undefined; v = after.get(v)) history.push(v);
    expect([...history].sort()).toEqual(contenders.map((m) => m.modelVersion).sort());
    expect(await store.getActive()).toEqual({
      modelVersion: history.at(-1),
      promotedAt: '2026-05-11T00:00:00.000Z',
      previous: history.at(-2),
    });
  });

  it('says which version is missing, and refuses a file that is not a model', async () => {
    const { store, plant } = await subject();
    await expect(store.getModel('20200101T000000Z-aaaaaaaaaaaa')).rejects.toThrow(NotFoundError);
    await expect(store.getModel('../etc/passwd')).rejects.toThrow(NotFoundError);
    await plant('20200101T000000Z-bbbbbbbbbbbb', 'not json');
    await expect(store.getModel('20200101T000000Z-bbbbbbbbbbbb')).rejects.toThrow(ModelError);
    await plant('20200101T000000Z-cccccccccccc', JSON.stringify({ schemaVersion: 3 }));
    await expect(store.getModel('20200101T000000Z-cccccccccccc')).rejects.toThrow(/schema version 3/);
  });
});
