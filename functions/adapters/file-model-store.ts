// ModelStore on a local directory, mirroring the bucket layout: models/<version>/model.json,
// models/<version>/report.html, models/active.json.

import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { NotFoundError } from '../../shared/errors.ts';
import {
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

  async setActive(pointer: ActivePointer): Promise<void> {
    await writeFileAtomic(join(this.root, 'models', 'active.json'), `${JSON.stringify(pointer, null, 2)}\n`);
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
