// Promotion: moving the active-model pointer, and the rule for when training promotes.

import type { ActivePointer } from '../model/artifact.ts';
import type { ModelStore } from '../ports.ts';

/** Training promotes when asked, when auto-promotion is on, or when no model is active yet. */
export function shouldPromote(requested: boolean | undefined, autoPromote: boolean, active: ActivePointer | null): boolean {
  if (active === null) return true;
  return requested ?? autoPromote;
}

/** Makes `modelVersion` the active model (it must exist), keeping the previous one in the pointer. */
export async function promoteModel(store: ModelStore, modelVersion: string, now: Date): Promise<ActivePointer> {
  await store.getModel(modelVersion);
  const active = await store.getActive();
  const pointer = {
    modelVersion,
    promotedAt: now.toISOString(),
    previous: active && active.modelVersion !== modelVersion ? active.modelVersion : (active?.previous ?? null),
  };
  await store.setActive(pointer);
  return pointer;
}
