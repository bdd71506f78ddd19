// `segments train` reads a large local file on every core: chunks.ts cuts it into chunks of whole
// lines, each read into columns by the reader of the sequential path (read-customers.ts's
// readColumnsPart), and the main thread puts the parts together in file order (ColumnsAssembler):
// the same columns, rejects, duplicates and fingerprint as one thread reading the whole file, so
// the same model. A file that cannot be cut, or whose chunks the reader refuses (not UTF-8, NUL
// bytes, a header it cannot read), is read by one thread, which says what is wrong with it.

import { stat } from 'node:fs/promises';
import { ColumnsAssembler, wholeArrays, type ColumnsPartArrays, type CustomerColumnsCsv } from '../../shared/csv/read-customers.ts';
import { InvalidFileError } from '../../shared/errors.ts';
import { mainThread, runChunks, scanFile, startWorkers, yieldToEvents } from './chunks.ts';
import { ChunkReader, partBuffers, type ColumnsDone, type ColumnsTask } from './label-worker.ts';
import { chunkBytesFor } from './parallel-assign.ts';

export interface ParallelReadInput {
  readonly path: string;
  /** worker threads to read on (the main thread stands in while they start); fewer than 2: null */
  readonly threads: number;
  readonly onProgress?: (rowsRead: number) => void;
  /** The main thread reads the first chunks while the workers start (default); tests turn it off. */
  readonly standIn?: boolean;
}

/** Room made for the ids beyond what the first chunk's predict for the file. */
const ESTIMATE_MARGIN = 0.05;

/**
 * Reads a local customers file into columns on `threads` threads, as readCustomerColumns reads it
 * on one. Null when the file is not for this path (see the top): the caller reads it on one.
 */
export async function readColumnsInParallel(input: ParallelReadInput): Promise<CustomerColumnsCsv | null> {
  if (input.threads < 2) return null;
  const file = await stat(input.path);
  if (!file.isFile()) return null; // a pipe or a device is read once, by the sequential path
  const { size } = file;
  // the worker threads start while the file is scanned; the main thread reads the first chunks
  // while they load their code (see mainThread), answering them between the pieces of its own
  const workers = startWorkers(input.threads);
  const reader = new ChunkReader(yieldToEvents);
  const threads = input.standIn === false ? workers : [...workers, mainThread((task: ColumnsTask) => reader.handle(task))];
  try {
    const scan = await scanFile(input.path, size);
    if (scan === null) return null;
    const parts = new ColumnsAssembler({ onProgress: input.onProgress });
    // the arrays of parts put together, to read the next parts into: fresh memory costs page
    // faults (about 3 ms a megabyte here), used memory nothing
    const free: ColumnsPartArrays[] = [];
    await runChunks<ColumnsDone>(threads, {
      path: input.path,
      size,
      start: scan.headerEnd,
      chunkBytes: chunkBytesFor(size, threads.length),
      numberLines: false,
      task: ({ seq, bytes }) => {
        const into = free.pop();
        const task: ColumnsTask = { type: 'columns', seq, header: scan.header, bytes, into };
        return { task, transfer: into === undefined ? [] : partBuffers(into) };
      },
      take: ({ seq, input: bytes, part }) => {
        if (seq === 0) {
          // the file's ids, estimated from its first chunk's, get their room at once
          const scale = (1 + ESTIMATE_MARGIN) / (bytes.length / size);
          parts.reserve(Math.ceil(part.records.hashes.length * scale), Math.ceil(part.records.chars.length * scale));
        }
        parts.add(part);
        free.push(wholeArrays(part));
      },
    });
    return parts.finish();
  } catch (error) {
    // the file's own problem, as one thread reading it from the start says it
    if (error instanceof InvalidFileError) return null;
    throw error;
  } finally {
    await Promise.all(threads.map(({ worker }) => worker.terminate()));
  }
}
