// `segments assign` on a large local file, on every core (chunks.ts cuts the file into chunks of
// whole lines and hands them out): each chunk is labeled by the same pass as the sequential path
// (label-file.ts), and its labeled lines come back as bytes, written to labeled.csv in file order
// as soon as the chunks before it are. The duplicate rule spans the chunks: the threads hand back
// the ids they saw, the main thread settles the rule over all of them, and a file with duplicates
// gets a second pass, as the sequential path does. A file with a quote character anywhere is
// labeled sequentially.

import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { DuplicateFinder, type DuplicateRecords } from '../../shared/csv/duplicates.ts';
import type { Model } from '../../shared/model/artifact.ts';
import type { ResultName, ResultWriter } from '../../shared/ports.ts';
import { finishLabelFile, freshState, labeledHeaderLine, type PassState } from '../../shared/workflows/label-file.ts';
import type { LabelSummary } from '../../shared/workflows/summary.ts';
import { mainThread, runChunks, scanFile, startWorkers, yieldToEvents, type Scan, type Started } from './chunks.ts';
import { ChunkLabeler, type ChunkDone, type ChunkTask, type PassTask } from './label-worker.ts';

/** Below this size a file is worked on by one thread: starting workers costs more than it saves. */
export const PARALLEL_MIN_BYTES = 8 << 20;
/**
 * Bytes of a chunk: large enough that a chunk's fixed costs (a parser, two messages) vanish, small
 * enough that the few chunks in flight (each labeled into about five times its size) hold little
 * memory and both cores start and end together. A small file is cut into about CHUNKS_PER_THREAD
 * chunks per thread.
 */
const MAX_CHUNK_BYTES = 128 << 10;
const MIN_CHUNK_BYTES = 16 << 10;
const CHUNKS_PER_THREAD = 16;
const PROGRESS_EVERY = 100_000;
/** Room made for the ids beyond what the first chunk's predict for the file. */
const ESTIMATE_MARGIN = 0.05;

/** Bytes of a chunk of a `size`-byte file cut for `threads` threads. */
export const chunkBytesFor = (size: number, threads: number): number =>
  Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, Math.ceil(size / (threads * CHUNKS_PER_THREAD))));

/** What a pass needs beside the threads. */
interface PassInput {
  readonly path: string;
  readonly size: number;
  readonly model: Model;
  readonly scan: Scan;
  readonly chunkBytes: number;
  /** labeled.csv's temporary file */
  readonly output: FileHandle;
  readonly onProgress?: (rowsRead: number) => void;
}

/**
 * One pass over the file: labeled lines written to the output in file order (the header line
 * first), counts and rejects merged, and in a first pass every id recorded in `ids`. The first
 * chunk in file order that fails fails the pass.
 */
async function pass(
  threads: readonly Started[],
  input: PassInput,
  known: ReadonlyMap<number, number> | null,
  ids: DuplicateFinder | null,
): Promise<PassState> {
  const state = freshState();
  const passTask: PassTask = { type: 'pass', header: input.scan.header, model: input.model, known: known === null ? null : [...known] };
  for (const { worker } of threads) worker.postMessage(passTask);
  let outputAt = 0;
  let nextProgress = PROGRESS_EVERY;
  // buffers that went to a thread and back, to label the next chunks into: fresh memory costs page
  // faults (about 3 ms a megabyte here), a used buffer nothing
  const outputs: Uint8Array[] = [];
  const recordSets: DuplicateRecords[] = [];
  await runChunks<ChunkDone>(threads, {
    path: input.path,
    size: input.size,
    start: input.scan.headerEnd,
    chunkBytes: input.chunkBytes,
    task: ({ seq, bytes, firstLine }) => {
      const output = outputs.pop();
      const records = ids === null ? undefined : recordSets.pop();
      const task: ChunkTask = { type: 'chunk', seq, bytes, firstLine, output, records };
      const transfer = [output?.buffer, records?.chars.buffer, records?.starts.buffer, records?.hashes.buffer, records?.lines.buffer];
      return { task, transfer: transfer.filter((b) => b !== undefined) as ArrayBuffer[] };
    },
    take: async (done) => {
      if (done.seq === 0) {
        state.header = done.state.header;
        const headerLine = Buffer.from(labeledHeaderLine(state.header!));
        await input.output.write(headerLine, 0, headerLine.length, outputAt);
        outputAt += headerLine.length;
      }
      await input.output.write(done.labeled, 0, done.labeled.length, outputAt);
      outputAt += done.labeled.length;
      outputs.push(new Uint8Array(done.labeled.buffer));
      merge(state, done.state);
      if (done.records !== null && ids !== null) {
        // the file's ids, estimated from its first chunk's, get their room at once
        if (done.seq === 0) reserveIds(ids, done.records, done.input.length / input.size);
        ids.append(done.records);
        recordSets.push(whole(done.records));
      }
      if (state.rowsRead >= nextProgress) {
        input.onProgress?.(state.rowsRead);
        nextProgress = (Math.floor(state.rowsRead / PROGRESS_EVERY) + 1) * PROGRESS_EVERY;
      }
    },
  });
  return state;
}

/** Typed arrays over the whole buffers of `records` (views of them, handed back), to record into again. */
function whole(records: DuplicateRecords): DuplicateRecords {
  const { chars, starts, hashes, lines } = records;
  return {
    chars: chars instanceof Uint8Array ? new Uint8Array(chars.buffer) : new Uint16Array(chars.buffer),
    starts: new Int32Array(starts.buffer),
    hashes: new Uint32Array(hashes.buffer),
    lines: new Int32Array(lines.buffer),
  };
}

/** Room in `ids` for the file's ids, if the rest of the file is like its first `share` (with a margin). */
function reserveIds(ids: DuplicateFinder, first: DuplicateRecords, share: number): void {
  const scale = (1 + ESTIMATE_MARGIN) / share;
  ids.reserve(Math.ceil(first.hashes.length * scale), Math.ceil(first.chars.length * scale));
}

/** Adds a chunk's counts and rejects to the pass's. */
function merge(state: PassState, chunk: PassState): void {
  state.rowsRead += chunk.rowsRead;
  state.labeled += chunk.labeled;
  state.outliers += chunk.outliers;
  for (const [segment, count] of Object.entries(chunk.segments)) state.segments[segment] = (state.segments[segment] ?? 0) + count;
  for (const row of chunk.rejected) state.rejected.push(row);
}

export interface ParallelLabelInput {
  readonly path: string;
  readonly model: Model;
  /** worker threads to label on (the main thread stands in while they start); fewer than 2: null */
  readonly workers: number;
  readonly paths: Readonly<Record<ResultName, string>>;
  readonly writer: ResultWriter;
  readonly startedAt: Date;
  readonly clock: () => Date;
  readonly onProgress?: (rowsRead: number) => void;
  /** Told how many threads label the file, when they do. */
  readonly onThreads?: (threads: number) => void;
  /** The main thread labels the first chunks while the workers start (default); tests turn it off. */
  readonly standIn?: boolean;
}

/**
 * Labels a local file on worker threads and writes labeled.csv, rejects.csv and summary.json as
 * the sequential path does, byte for byte. Null when the file is not for this path (see the top).
 */
export async function labelFileInParallel(input: ParallelLabelInput): Promise<LabelSummary | null> {
  if (input.workers < 2) return null;
  const file = await stat(input.path);
  if (!file.isFile()) return null; // a pipe or a device is read once, by the sequential path
  const { size } = file;
  // the worker threads start while the file is scanned; the main thread labels the first chunks
  // while they load their code (see mainThread), answering them between the pieces of its own
  const labeler = new ChunkLabeler(yieldToEvents);
  const main = mainThread((task) => labeler.handle(task));
  const workers = startWorkers(input.workers);
  const standIns = input.standIn === false ? [] : [main];
  const labelers = [...workers, ...standIns];
  const labeled = input.paths['labeled.csv'];
  const temp = join(dirname(labeled), `.${basename(labeled)}.${randomBytes(6).toString('hex')}.tmp`);
  let output: FileHandle | undefined;
  try {
    const scan = await scanFile(input.path, size);
    if (scan === null) return null;
    input.onThreads?.(input.workers);
    await mkdir(dirname(labeled), { recursive: true });
    output = await open(temp, 'w');
    const chunkBytes = chunkBytesFor(size, input.workers);
    const job: PassInput = { path: input.path, size, model: input.model, scan, chunkBytes, output, onProgress: input.onProgress };
    const ids = new DuplicateFinder();
    let state = await pass(labelers, job, null, ids);
    // the worker threads stop (and free their memory) before the duplicate rule is settled (its
    // sort takes 8 bytes a row), and new ones start in the rare file that needs a second pass
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
    const known = ids.superseded();
    if (known.size > 0) {
      // the first pass wrote rows that later rows superseded: write labeled.csv again without them
      await output.truncate(0);
      workers.push(...startWorkers(input.workers));
      state = await pass([...workers.slice(-input.workers), ...standIns], job, known, null);
    }
    await output.close();
    output = undefined;
    await rename(temp, labeled);
    return await finishLabelFile(
      input.writer,
      { source: input.path, model: input.model, startedAt: input.startedAt, clock: input.clock },
      state,
      known.size,
    );
  } finally {
    // the workers are done, or the file failed, or was not for this path
    await Promise.all([...workers, main].map(({ worker }) => worker.terminate()));
    if (output !== undefined) await output.close();
    await rm(temp, { force: true });
  }
}
