// The worker threads of `segments assign` themselves at work (in process, from the TypeScript
// sources): with the main thread not standing in while they start, every chunk of a small file is
// labeled by a worker and handed back, and the outputs are those of one thread.

import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { FileResultWriter } from '../../../functions/adapters/file-result-writer.ts';
import { labelFileInParallel } from '../../../functions/cli/parallel-assign.ts';
import { readCustomerColumns } from '../../../shared/csv/read-customers.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import type { ResultName } from '../../../shared/ports.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { labelFile } from '../../../shared/workflows/label-file.ts';
import { trainModel, trainingDataFromCsv } from '../../../shared/workflows/train.ts';
import { withTempDir } from '../../support/temp.ts';

let dir: string;
let text: string;
let model: Model;

beforeAll(async () => {
  const temp = await withTempDir('parallel-workers');
  dir = temp.path;
  const rows = [...generateCsv({ rows: 5000, seed: 3 })].join('').trimEnd().split('\n');
  // a rejected row, and duplicates across chunks: rows 100 and 4,000 have the ids of rows 3,000 and 50
  rows[10] = `${rows[10]!.split(',')[0]},X,30,40,50`;
  rows[100] = `${rows[3000]!.split(',')[0]},Male,30,40,50`;
  rows[4000] = `${rows[50]!.split(',')[0]},Female,31,41,51`;
  text = `${rows.join('\n')}\n`;
  await writeFile(join(dir, 'customers.csv'), text);
  const csv = await readCustomerColumns(createReadStream(join(dir, 'customers.csv')));
  model = trainModel(trainingDataFromCsv(csv, 'customers.csv'), { k: 4, seed: 1 }, new Date('2026-01-01T00:00:00Z'));
  return () => temp.remove();
});

const outputs = (stem: string): Record<ResultName, string> => ({
  'labeled.csv': join(dir, `${stem}.csv`),
  'rejects.csv': join(dir, `${stem}.rejects.csv`),
  'summary.json': join(dir, `${stem}.summary.json`),
});

describe('worker threads', () => {
  it('label every chunk, twice for a file with duplicates, and write what one thread writes', async () => {
    const path = join(dir, 'customers.csv');
    const clock = () => new Date('2026-01-02T00:00:00Z');
    const common = { source: path, model, startedAt: clock(), clock };
    const one = await labelFile({ ...common, open: () => createReadStream(path) }, new FileResultWriter(outputs('one')));
    let threads: number | undefined;
    const parallel = await labelFileInParallel({
      ...common,
      path,
      workers: 2,
      paths: outputs('two'),
      writer: new FileResultWriter(outputs('two')),
      onThreads: (n) => (threads = n),
      standIn: false,
    });
    expect(threads).toBe(2);
    expect(parallel).toEqual(one);
    for (const name of ['labeled.csv', 'rejects.csv', 'summary.json'] as const) {
      expect(await readFile(outputs('two')[name], 'utf8')).toBe(await readFile(outputs('one')[name], 'utf8'));
    }
    expect(one.duplicates).toBe(2);
  });
});
