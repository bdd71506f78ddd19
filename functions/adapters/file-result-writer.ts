// ResultWriter on local files: each output written atomically to the path chosen for its name.

import { rm } from 'node:fs/promises';
import type { ResultName, ResultWriter } from '../../shared/ports.ts';
import { writeFileAtomic } from './atomic-file.ts';

export class FileResultWriter implements ResultWriter {
  constructor(private readonly paths: Readonly<Record<ResultName, string>>) {}

  async write(name: ResultName, content: AsyncIterable<string> | string): Promise<string> {
    const path = this.paths[name];
    await writeFileAtomic(path, content);
    return path;
  }

  async remove(name: ResultName): Promise<void> {
    await rm(this.paths[name], { force: true });
  }
}
