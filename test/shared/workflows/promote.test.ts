// Promotion when the active-model pointer never holds still: promoteModel retries its
// compare-and-swap a bounded number of times, then fails with a message written for a person.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileModelStore } from '../../../functions/adapters/file-model-store.ts';
import { ConflictError, userMessage } from '../../../shared/errors.ts';
import type { ModelStore } from '../../../shared/ports.ts';
import { promoteModel } from '../../../shared/workflows/promote.ts';
import { withTempDir } from '../../support/temp.ts';
import { smallModel } from '../support/model-fixtures.ts';

let dir: { path: string; remove(): Promise<void> };
beforeAll(async () => {
  dir = await withTempDir('promote');
});
afterAll(async () => await dir.remove());

/** A real store where another writer moves the pointer between each read and swap of the caller's. */
function contended(store: FileModelStore, rival: string): { store: ModelStore; rivalSwaps: () => number } {
  let swaps = 0;
  return {
    rivalSwaps: () => swaps,
    store: {
      putModel: (model) => store.putModel(model),
      putReport: (version, html) => store.putReport(version, html),
      getModel: (version) => store.getModel(version),
      getActive: () => store.getActive(),
      listModels: () => store.listModels(),
      async swapActive(expected, next) {
        swaps++;
        const now = await store.getActive();
        await store.swapActive(now, {
          modelVersion: rival,
          promotedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, swaps)).toISOString(),
          previous: null,
        });
        return await store.swapActive(expected, next);
      },
    },
  };
}

describe('promoteModel', () => {
  it('gives up after five tries with a ConflictError that a person may read, the pointer left to the other writer', async () => {
    const { model } = smallModel();
    const files = new FileModelStore(dir.path);
    await files.putModel(model);
    const rival = '20260101T000000Z-aaaaaaaaaaaa';
    const { store, rivalSwaps } = contended(files, rival);

    const failure = await promoteModel(store, model.modelVersion, new Date('2026-06-01T00:00:00Z')).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(ConflictError);
    expect(userMessage(failure)).toBe(`the active model kept changing while promoting ${model.modelVersion}; try again`);
    expect(rivalSwaps()).toBe(5);
    expect((await files.getActive())?.modelVersion).toBe(rival);
  });
});
