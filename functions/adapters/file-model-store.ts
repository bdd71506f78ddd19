// ModelStore on a local directory, mirroring the bucket layout: models/<version>/model.json,
// models/<version>/report.html, models/active.json.

import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConflictError, NotFoundError } from '../../shared/errors.ts';
import {
  canonicalJson,
  ModelVersionSchema,
  parseActivePointer,
  parseModel,
  serializeModel,
  type ActivePointer,
  type Model,
} from '../../shared/model/artifact.ts';
import type { ModelStore } from '../../shared/ports.ts';
import { writeFileAtomic } from './atomic-file.ts';

const isMissing = (error: unknown): boolean => (error as NodeJS.ErrnoException).code === 'ENOENT';
const LOCK_POLL_MS = 20;
const LOCK_WAIT_MS = 10_000;
const LOCK_STALE_MS = 30_000;

export class FileModelStore implements ModelStore {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  modelPath(version: string): string {
    return join(this.root, 'models', version, 'model.json');
  }

  reportPath(version: string): string {
    return join(this.root, 'models', version, 'report.html');
  }

  async putModel(model: Model): Promise<{ modelUri: string }> {
    const modelUri = this.modelPath(model.modelVersion);
    await writeFileAtomic(modelUri, serializeModel(model));
    return { modelUri };
  }

  async putReport(modelVersion: string, html: string): Promise<string> {
    const path = this.reportPath(modelVersion);
    await writeFileAtomic(path, html);
    return path;
  }

  async getModel(version: string): Promise<Model> {
    if (!ModelVersionSchema.safeParse(version).success)
      throw new NotFoundError(`"${version}" is not a model version (they look like 20261126T153000Z-3fa2b9c01d4e)`);
    const path = this.modelPath(version);
    try {
      return parseModel(await readFile(path, 'utf8'), path);
    } catch (error) {
      if (isMissing(error)) throw new NotFoundError(`model ${version} is not in ${this.root}`);
      throw error;
    }
  }

  async getActive(): Promise<ActivePointer | null> {
    const path = join(this.root, 'models', 'active.json');
    try {
      return parseActivePointer(await readFile(path, 'utf8'), path);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async swapActive(expected: ActivePointer | null, next: ActivePointer): Promise<boolean> {
    return await this.withPointerLock(async () => {
      if (canonicalJson(await this.getActive()) !== canonicalJson(expected)) return false;
      await writeFileAtomic(join(this.root, 'models', 'active.json'), `${JSON.stringify(next, null, 2)}\n`);
      return true;
    });
  }

  /** An exclusive lock file around the pointer's read-compare-write; a lock left by a dead process expires. */
  private async withPointerLock<T>(work: () => Promise<T>): Promise<T> {
    const lock = join(this.root, 'models', '.active.lock');
    await mkdir(dirname(lock), { recursive: true });
    for (let waited = 0; ; waited += LOCK_POLL_MS) {
      try {
        await writeFile(lock, String(process.pid), { flag: 'wx' });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const age = Date.now() - (await stat(lock).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
        if (age > LOCK_STALE_MS) await rm(lock, { force: true });
        else if (waited > LOCK_WAIT_MS) throw new ConflictError(`${lock} is held by another process; try again`);
        else await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
      }
    }
    try {
      return await work();
    } finally {
      await rm(lock, { force: true });
    }
  }

  async listModels(): Promise<string[]> {
    try {
      const entries = await readdir(join(this.root, 'models'), { withFileTypes: true });
      return entries
        .filter((e) => e.isDirectory() && ModelVersionSchema.safeParse(e.name).success)
        .map((e) => e.name)
        .sort();
    } catch (error) {
      if (isMissing(error)) return [];
      throw error;
    }
  }
}
