// Publishing and promotion: storing a trained model, the rule for when training promotes, moving
// the active-model pointer (promote, roll back), and the stored models as a listing.

import type { ActivePointer, Model } from '../model/artifact.ts';
import { ConflictError, InvalidOptionError } from '../errors.ts';
import type { ModelStore } from '../ports.ts';

/** Training promotes when asked, when auto-promotion is on, or when no model is active yet. */
function shouldPromote(requested: boolean | undefined, autoPromote: boolean, active: ActivePointer | null): boolean {
  if (active === null) return true;
  return requested ?? autoPromote;
}

/** Promotions retried when another writer changes the pointer in between. */
const PROMOTE_ATTEMPTS = 5;

/** Makes `modelVersion` the active model (it must exist), keeping the previous one in the pointer. */
export async function promoteModel(store: ModelStore, modelVersion: string, now: Date): Promise<ActivePointer> {
  await store.getModel(modelVersion);
  for (let attempt = 0; attempt < PROMOTE_ATTEMPTS; attempt++) {
    const active = await store.getActive();
    const pointer = {
      modelVersion,
      promotedAt: now.toISOString(),
      previous: active && active.modelVersion !== modelVersion ? active.modelVersion : (active?.previous ?? null),
    };
    // compare-and-swap: two promotions at once both land, one after the other, history kept
    if (await store.swapActive(active, pointer)) return pointer;
  }
  throw new ConflictError(`the active model kept changing while promoting ${modelVersion}; try again`);
}

export interface PublishOptions {
  /** Promote explicitly (true/false); undefined follows `autoPromote`. */
  readonly promote?: boolean;
  readonly autoPromote: boolean;
  readonly now: () => Date;
}

export interface Published {
  readonly modelUri: string;
  readonly promoted: boolean;
}

/** Stores a trained model, then promotes it when the rule says so. */
export async function publishModel(store: ModelStore, model: Model, options: PublishOptions): Promise<Published> {
  const { modelUri } = await store.putModel(model);
  const promoted = shouldPromote(options.promote, options.autoPromote, await store.getActive());
  if (promoted) await promoteModel(store, model.modelVersion, options.now());
  return { modelUri, promoted };
}

/** The active model, or null when none has been promoted yet. */
export async function activeModel(store: ModelStore): Promise<Model | null> {
  const active = await store.getActive();
  return active === null ? null : await store.getModel(active.modelVersion);
}

/** Makes the previous active model active again; the one rolled back from becomes `previous`. */
export async function rollbackModel(store: ModelStore, now: Date): Promise<ActivePointer> {
  const active = await store.getActive();
  if (active?.previous == null) throw new InvalidOptionError('there is no previous model to roll back to');
  return await promoteModel(store, active.previous, now);
}

export interface ModelListing {
  readonly modelVersion: string;
  readonly createdAt: string;
  readonly k: number;
  readonly source: string;
  readonly rows: number;
  readonly active: boolean;
  readonly previous: boolean;
}

/** Every stored model, oldest first, with what the active pointer says of it. */
export async function listModels(store: ModelStore): Promise<ModelListing[]> {
  const active = await store.getActive();
  const versions = await store.listModels();
  const listing = await Promise.all(
    versions.map(async (version) => {
      const model = await store.getModel(version);
      return {
        modelVersion: version,
        createdAt: model.createdAt,
        k: model.k,
        source: model.training.source,
        rows: model.training.rowsAccepted,
        active: active?.modelVersion === version,
        previous: active?.previous === version,
      };
    }),
  );
  // versions of the same second sort by their hash part: order by creation time instead
  return listing.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.modelVersion.localeCompare(b.modelVersion));
}
