// `segments assign` on a large local file, on every core: the main thread reads the file in chunks
// of whole lines and hands them out to worker threads as they free up; each chunk is labeled by
// the same pass as the sequential path (label-file.ts), and its labeled lines come back as bytes,
// written to labeled.csv in file order as soon as the chunks before it are. Memory holds a few
// chunks, whatever the file's size. The duplicate rule spans the chunks: the workers hand back the
// ids they saw, the main thread settles the rule over all of them, and a file with duplicates gets
// a second pass, as the sequential path does. A file with a quote character anywhere is labeled
// sequentially (a quoted field may hold a line break, so a line end is not always a row end).

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DuplicateFinder, type DuplicateRecords } from '../../shared/csv/duplicates.ts';
import { InvalidFileError, SegmentationError } from '../../shared/errors.ts';
import type { Model } from '../../shared/model/artifact.ts';
import type { ResultName, ResultWriter } from '../../shared/ports.ts';
import { finishLabelFile, freshState, labeledHeaderLine, type PassState } from '../../shared/workflows/label-file.ts';
import type { LabelSummary } from '../../shared/workflows/summary.ts';
import { ChunkLabeler, type ChunkAnswer, type ChunkFailed, type ChunkTask, type LabelTask, type PassTask } from './label-worker.ts';

const QUOTE = 0x22;
/** What a line holds when the reader skips it as blank: separators, spaces, a BOM, line ends. */
const BLANK_LINE_CHARACTERS = /[\s,\uFEFF]/g;
const NEWLINE = 0x0a;
/** Below this size a file is labeled on one thread: starting workers costs more than it saves. */
export const PARALLEL_MIN_BYTES = 8 << 20;
/** Bytes read at a time to find the header line and the quotes: one block, reused, that stays in cache. */
const SCAN_BYTES = 256 << 10;
/**
 * Bytes of a chunk: large enough that a chunk's fixed costs (a parser, two messages) vanish, small
 * enough that the few chunks in flight hold little memory and both cores start and end together.
 * A small file is cut into about CHUNKS_PER_WORKER chunks per worker.
 */
const MAX_CHUNK_BYTES = 512 << 10;
const MIN_CHUNK_BYTES = 16 << 10;
const CHUNKS_PER_WORKER = 16;
/** Chunks given to a worker before it answers: one to label, one waiting, so it never idles. */
const CHUNKS_PER_WORKER_IN_FLIGHT = 2;
/**
 * Chunks labeled but not yet written beyond the ones in flight: the main thread labels a chunk
 * as soon as it is given one, and may run this far ahead of a worker's before it waits.
 */
const CHUNKS_AHEAD = 2;
/** Room for the end of a line carried over from one chunk's read to the next. */
const CARRY_BYTES = 64 << 10;
const PROGRESS_EVERY = 100_000;
/**
 * A worker's young generation: V8's default lets it grow to 48 MB of fresh memory, whose page
 * faults cost about 3 ms a megabyte here; a chunk's pieces leave little alive to copy.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16 };
/** Room made for the ids beyond what the first chunk's predict for the file. */
const ESTIMATE_MARGIN = 0.05;

interface Scan {
  /** the header line, line end included */
  readonly header: string;
  /** the byte after the header line */
  readonly headerEnd: number;
}

/**
 * Reads the file once for its header line and for quotes (a memchr per block, while the workers
 * start). Null when it cannot be cut safely (a quote anywhere), has no data rows, or its first
 * line is not a header (the sequential path says what is wrong with it).
 */
async function scanFile(handle: FileHandle, size: number): Promise<Scan | null> {
  const block = Buffer.allocUnsafe(Math.min(SCAN_BYTES, size));
  let headerEnd = -1;
  let header: Buffer | undefined;
  for (let offset = 0; offset < size;) {
    const { bytesRead } = await handle.read(block, 0, block.length, offset);
    if (bytesRead === 0) break;
    const bytes = block.subarray(0, bytesRead);
    if (bytes.includes(QUOTE)) return null;
    if (headerEnd < 0) {
      const end = bytes.indexOf(NEWLINE);
      if (end >= 0) {
        headerEnd = offset + end + 1;
        header = Buffer.alloc(headerEnd);
        await handle.read(header, 0, headerEnd, 0);
      }
    }
    offset += bytesRead;
  }
  if (header === undefined || headerEnd >= size) return null;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(header);
  } catch {
    return null;
  }
  // a blank first line is not the header (the reader skips it): the sequential path finds the header
  if (text.replace(BLANK_LINE_CHARACTERS, '') === '') return null;
  return { header: text, headerEnd };
}

/** A thread that labels chunks: a worker thread, or the main thread answering as one (MainThreadLabeler). */
interface LabelerThread {
  postMessage(task: LabelTask, transfer?: readonly ArrayBuffer[]): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  terminate(): Promise<number>;
}

/** A started labeler, how it failed if it did, whether it is ready for work, and how many chunks it holds. */
interface Started {
  readonly worker: LabelerThread;
  failure: Error | undefined;
  online: boolean;
  inFlight: number;
}

/**
 * The main thread as one of the labelers, answering as a worker thread does (the same
 * ChunkLabeler): one thread fewer to start, whose start was the first tenth of a second of a run
 * with nothing labeled, and to hold in memory. Its chunks are labeled between the main thread's
 * own work of reading and writing.
 */
class MainThreadLabeler extends EventEmitter implements LabelerThread {
  // between pieces of a chunk the main thread answers the workers, who would otherwise wait
  private readonly labeler = new ChunkLabeler(() => new Promise((resolve) => setImmediate(resolve)));
  private queue = Promise.resolve();
  private stopped = false;

  postMessage(task: LabelTask): void {
    this.queue = this.queue.then(async () => {
      const answer = this.stopped ? undefined : await this.labeler.handle(task);
      if (answer !== undefined && !this.stopped) this.emit('message', answer);
    });
  }

  async terminate(): Promise<number> {
    this.stopped = true;
    await this.queue;
    return 0;
  }
}

const workerStopped = (code: number): Error =>
  new SegmentationError(`a labeling worker stopped unexpectedly (exit code ${code})`, { userFacing: false });

/** The error a worker reported for a chunk, as the main thread throws it. */
function chunkError(message: ChunkFailed): Error {
  // the file's own problems keep their one-line message; anything else is a failure
  return message.name === InvalidFileError.name
    ? new InvalidFileError(message.message)
    : new SegmentationError(message.message, { userFacing: message.userFacing });
}

/** What a pass needs beside the workers. */
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

/** Counts the line ends in `bytes`. */
function newlines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE); i >= 0; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/**
 * One pass over the file: chunks handed to the workers with room, labeled lines written to the
 * output in file order (the header line first), counts and rejects merged, and in a first pass
 * every id recorded in `ids`. The first chunk in file order that fails fails the pass.
 */
async function pass(
  workers: readonly Started[],
  input: PassInput,
  known: ReadonlyMap<number, number> | null,
  ids: DuplicateFinder | null,
): Promise<PassState> {
  const state = freshState();
  const failed = workers.find((w) => w.failure !== undefined);
  if (failed !== undefined) throw failed.failure;
  const passTask: PassTask = { type: 'pass', header: input.scan.header, model: input.model, known: known === null ? null : [...known] };
  for (const { worker } of workers) worker.postMessage(passTask);
  const finished = new Map<number, ChunkAnswer>();
  let failure: Error | undefined;
  let stopped = false; // a chunk failed: no more are sent, the ones before it decide what is reported
  // a chunk came back or a worker failed since the main thread last looked
  let signalled = false;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    signalled = true;
    wake?.();
    wake = undefined;
  };
  const listeners = workers.map((started) => {
    const failedWith = (error: Error): void => {
      started.failure ??= error;
      failure ??= error;
      signal();
    };
    const listener = {
      message: (message: ChunkAnswer) => {
        started.inFlight--;
        finished.set(message.seq, message);
        if (message.type === 'error') stopped = true;
        signal();
      },
      error: failedWith,
      exit: (code: number) => failedWith(workerStopped(code)),
      online: signal,
    };
    started.worker.on('message', listener.message);
    started.worker.on('error', listener.error);
    started.worker.on('exit', listener.exit);
    started.worker.on('online', listener.online);
    return listener;
  });
  let sent = 0;
  let written = 0; // chunks written so far, in file order
  let outputAt = 0;
  let nextProgress = PROGRESS_EVERY;
  // buffers that went to a worker and back, to read and label the next chunks into: fresh memory
  // costs page faults (about 3 ms a megabyte here), a used buffer nothing
  const inputs: Uint8Array[] = [];
  const outputs: Uint8Array[] = [];
  const recordSets: DuplicateRecords[] = [];
  /** Waits until a chunk comes back or a worker fails, unless one did since the last look. */
  const settled = async (): Promise<void> => {
    if (!signalled && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
    signalled = false;
    if (failure !== undefined) throw failure;
  };
  /** Writes every finished chunk that is next in file order; throws at the first failed one. */
  const writeFinished = async (): Promise<void> => {
    for (let done = finished.get(written); done !== undefined; done = finished.get(written)) {
      if (done.type === 'error') throw chunkError(done);
      finished.delete(written);
      if (written === 0) {
        state.header = done.state.header;
        const headerLine = Buffer.from(labeledHeaderLine(state.header!));
        await input.output.write(headerLine, 0, headerLine.length, outputAt);
        outputAt += headerLine.length;
      }
      await input.output.write(done.labeled, 0, done.labeled.length, outputAt);
      outputAt += done.labeled.length;
      inputs.push(new Uint8Array(done.input.buffer));
      outputs.push(new Uint8Array(done.labeled.buffer));
      merge(state, done.state);
      if (done.records !== null && ids !== null) {
        // the file's ids, estimated from its first chunk's, get their room at once
        if (written === 0) reserveIds(ids, done.records, done.input.length / input.size);
        ids.append(done.records);
        recordSets.push(whole(done.records));
      }
      written++;
      if (state.rowsRead >= nextProgress) {
        input.onProgress?.(state.rowsRead);
        nextProgress = (Math.floor(state.rowsRead / PROGRESS_EVERY) + 1) * PROGRESS_EVERY;
      }
    }
  };
  const source = await open(input.path, 'r');
  try {
    const window = workers.length * CHUNKS_PER_WORKER_IN_FLIGHT + CHUNKS_AHEAD;
    let offset = input.scan.headerEnd;
    let line = 2;
    let carry: Uint8Array = new Uint8Array(0);
    while (offset < input.size || carry.length > 0) {
      // a worker with room, and room in the window of chunks not yet written
      let free = withRoom(workers);
      while (!stopped && (free === undefined || sent - written >= window)) {
        await settled();
        await writeFinished();
        free = withRoom(workers);
      }
      if (stopped) break;
      let bytes = inputs.pop();
      if (bytes === undefined || carry.length > CARRY_BYTES) bytes = new Uint8Array(carry.length + input.chunkBytes + CARRY_BYTES);
      bytes.set(carry);
      const { bytesRead } = await source.read(bytes, carry.length, Math.min(input.chunkBytes, bytes.length - carry.length), offset);
      offset += bytesRead;
      const filled = carry.length + bytesRead;
      const atEnd = offset >= input.size || bytesRead === 0;
      const cut = atEnd ? filled : bytes.lastIndexOf(NEWLINE, filled - 1) + 1;
      if (cut === 0) {
        if (atEnd) break;
        carry = bytes.subarray(0, filled); // no line end yet: a very long line, read on
        continue;
      }
      carry = bytes.slice(cut, filled);
      const chunk = bytes.subarray(0, cut);
      const output = outputs.pop();
      const records = ids === null ? undefined : recordSets.pop();
      const task: ChunkTask = { type: 'chunk', seq: sent++, bytes: chunk, firstLine: line, output, records };
      line += newlines(chunk);
      free!.inFlight++;
      const transfer = [
        bytes.buffer,
        output?.buffer,
        records?.chars.buffer,
        records?.starts.buffer,
        records?.hashes.buffer,
        records?.lines.buffer,
      ];
      free!.worker.postMessage(task, transfer.filter((b) => b !== undefined) as ArrayBuffer[]);
      if (atEnd) break;
    }
    while (written < sent) {
      await settled();
      await writeFinished();
    }
    return state;
  } finally {
    await source.close();
    workers.forEach(({ worker }, i) => {
      const listener = listeners[i]!;
      worker.off('message', listener.message);
      worker.off('error', listener.error);
      worker.off('exit', listener.exit);
      worker.off('online', listener.online);
    });
  }
}

/** The first labeler ready for a chunk and with room for one (a worker still starting gets none yet). */
const withRoom = (labelers: readonly Started[]): Started | undefined =>
  labelers.find((l) => l.online && l.inFlight < CHUNKS_PER_WORKER_IN_FLIGHT);

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
  readonly workers: number;
  readonly paths: Readonly<Record<ResultName, string>>;
  readonly writer: ResultWriter;
  readonly startedAt: Date;
  readonly clock: () => Date;
  readonly onProgress?: (rowsRead: number) => void;
  /** Told how many threads label the file, when they do (the main thread and workers). */
  readonly onThreads?: (threads: number) => void;
}

/**
 * The worker script: label-worker.js beside this module's chunk in the CLI bundle; from the
 * TypeScript sources (tsx, tests), a starter that runs label-worker.ts through tsx.
 */
function workerScript(): string {
  const bundled = fileURLToPath(new URL('./label-worker.js', import.meta.url));
  return existsSync(bundled) ? bundled : fileURLToPath(new URL('./label-worker-source.mjs', import.meta.url));
}

/** Starts `n` workers. */
const startWorkers = (n: number, file: string): Started[] => Array.from({ length: n }, () => startWorker(file));

/** Starts a worker whose failures are caught from the start (a thread can fail while loading). */
function startWorker(file: string): Started {
  const started: Started = { worker: new Worker(file, { resourceLimits: WORKER_LIMITS }), failure: undefined, online: false, inFlight: 0 };
  started.worker.on('online', () => (started.online = true));
  started.worker.on('error', (error) => (started.failure ??= error));
  started.worker.on('exit', (code) => (started.failure ??= workerStopped(code)));
  return started;
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
  // the worker threads start while the file is scanned; the main thread is one of the labelers,
  // the last to be given a chunk (it labels a chunk at once, a worker keeps one queued)
  const workerFile = workerScript();
  const main: Started = { worker: new MainThreadLabeler(), failure: undefined, online: true, inFlight: 0 };
  const workers = startWorkers(input.workers - 1, workerFile);
  const labelers = [...workers, main];
  const labeled = input.paths['labeled.csv'];
  const temp = join(dirname(labeled), `.${basename(labeled)}.${randomBytes(6).toString('hex')}.tmp`);
  let output: FileHandle | undefined;
  try {
    const handle = await open(input.path, 'r');
    const scan = await scanFile(handle, size).finally(() => handle.close());
    if (scan === null) return null;
    input.onThreads?.(labelers.length);
    await mkdir(dirname(labeled), { recursive: true });
    output = await open(temp, 'w');
    const chunkBytes = Math.min(MAX_CHUNK_BYTES, Math.max(MIN_CHUNK_BYTES, Math.ceil(size / (labelers.length * CHUNKS_PER_WORKER))));
    const job: PassInput = { path: input.path, size, model: input.model, scan, chunkBytes, output, onProgress: input.onProgress };
    const ids = new DuplicateFinder();
    let state = await pass(labelers, job, null, ids);
    // the worker threads stop while the duplicate rule is settled (stopping one takes a while),
    // and new ones start in the rare file that needs a second pass
    const stopping = Promise.all(workers.map(({ worker }) => worker.terminate()));
    const known = ids.superseded();
    if (known.size > 0) {
      // the first pass wrote rows that later rows superseded: write labeled.csv again without them
      await output.truncate(0);
      await stopping;
      workers.push(...startWorkers(input.workers - 1, workerFile));
      state = await pass([...workers.slice(-(input.workers - 1)), main], job, known, null);
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
