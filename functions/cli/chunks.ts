// A large local file worked on by every core in chunks of whole lines (`segments assign` labels
// them): the main thread reads the file a chunk at a time and hands the chunks out to threads as
// they free up — worker threads, and itself while they start — and takes their answers in file
// order. Memory holds a few chunks, whatever the
// file's size. Only a file without a quote character is cut (a quoted field may hold a line break,
// so a line end is not always a row end).

import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { InvalidFileError, SegmentationError } from '../../shared/errors.ts';

const QUOTE = 0x22;
const NEWLINE = 0x0a;
/** What a line holds when the reader skips it as blank: separators, spaces, a BOM, line ends. */
const BLANK_LINE_CHARACTERS = /[\s,\uFEFF]/g;
/** Bytes read at a time to find the header line and the quotes: one block, reused, that stays in cache. */
const SCAN_BYTES = 256 << 10;
/** Chunks given to a thread before it answers: one to work on, one waiting, so it never idles. */
const CHUNKS_PER_THREAD_IN_FLIGHT = 2;
/**
 * Chunks answered but not yet taken beyond the ones in flight: the main thread works on a chunk as
 * soon as it is given one, and may run this far ahead of a worker's before it waits.
 */
const CHUNKS_AHEAD = 2;
/** Room for the end of a line carried over from one chunk's read to the next. */
const CARRY_BYTES = 64 << 10;
/**
 * A worker's young generation: V8's default lets it grow to 48 MB of fresh memory, whose page
 * faults cost about 3 ms a megabyte here; a chunk's pieces leave little alive to copy.
 */
const WORKER_LIMITS = { maxYoungGenerationSizeMb: 16 };

export interface Scan {
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
export async function scanFile(path: string, size: number): Promise<Scan | null> {
  const handle = await open(path, 'r');
  try {
    return await scanHandle(handle, size);
  } finally {
    await handle.close();
  }
}

async function scanHandle(handle: FileHandle, size: number): Promise<Scan | null> {
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

/** What every answer to a chunk task has: its chunk's number, and the chunk's bytes handed back. */
export interface ChunkAnswered {
  readonly type: string;
  readonly seq: number;
  readonly input: Uint8Array;
}

/** A chunk that could not be worked on: the file's problem (InvalidFileError) or a failure. */
export interface ChunkFailed {
  readonly type: 'error';
  readonly seq: number;
  readonly name: string;
  readonly message: string;
  readonly userFacing: boolean;
}

/** An error thrown while working on a chunk, as an answer (it travels between threads). */
export function chunkFailed(seq: number, error: unknown): ChunkFailed {
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  // whether the message is for a person travels with it (SegmentationError.userFacing)
  return { type: 'error', seq, name, message, userFacing: error instanceof SegmentationError && error.userFacing };
}

/** The error a thread reported for a chunk, as the main thread throws it. */
export function chunkError(message: ChunkFailed): Error {
  // the file's own problems keep their one-line message; anything else is a failure
  return message.name === InvalidFileError.name
    ? new InvalidFileError(message.message)
    : new SegmentationError(message.message, { userFacing: message.userFacing });
}

/** A thread that works on chunks: a worker thread, or the main thread answering as one (MainThread). */
interface ChunkThread {
  postMessage(task: unknown, transfer?: readonly ArrayBuffer[]): void;
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
  terminate(): Promise<number>;
}

/** A started thread, how it failed if it did, whether it is ready for work, and how many chunks it holds. */
export interface Started {
  readonly worker: ChunkThread;
  failure: Error | undefined;
  /** ready for work: a worker thread once it has loaded its code and listens (its 'ready' message) */
  online: boolean;
  inFlight: number;
  /** works only while no worker thread is ready (the main thread: see mainThread) */
  readonly standIn?: boolean;
}

/** What a worker thread says once it listens for tasks. */
export const READY = { type: 'ready' } as const;

/**
 * The main thread as one of the threads, answering tasks as a worker thread does (with the same
 * handler): one thread fewer to start, whose start was the first tenth of a second of a run with
 * nothing done, and to hold in memory. Its chunks are worked on between the main thread's own work
 * of reading and taking answers.
 */
class MainThread extends EventEmitter implements ChunkThread {
  private queue = Promise.resolve();
  private stopped = false;

  constructor(private readonly handle: (task: any) => Promise<unknown>) {
    super();
  }

  postMessage(task: unknown): void {
    this.queue = this.queue.then(async () => {
      const answer = this.stopped ? undefined : await this.handle(task);
      if (answer !== undefined && !this.stopped) this.emit('message', answer);
    });
  }

  async terminate(): Promise<number> {
    this.stopped = true;
    await this.queue;
    return 0;
  }
}

/**
 * The main thread as a started thread, handling its tasks with `handle` (undefined: no answer),
 * only while no worker thread is ready: it starts the work at once, while the workers load their
 * code, then leaves it to them. A thread that works on a long file grows its young generation
 * (V8 grows it whenever the survivors since it last grew add up to its size, so the longer the
 * file the larger it gets, up to 32 MB for the main thread), and the main thread's cannot be
 * capped as a worker's can.
 */
export const mainThread = (handle: (task: any) => Promise<unknown>): Started => ({
  worker: new MainThread(handle),
  failure: undefined,
  online: true,
  inFlight: 0,
  standIn: true,
});

/** Lets the event loop run: the main thread, working on a chunk, answers the workers between its pieces. */
export const yieldToEvents = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

const workerStopped = (code: number): Error =>
  new SegmentationError(`a worker thread stopped unexpectedly (exit code ${code})`, { userFacing: false });

/**
 * The worker script: label-worker.js beside this module's chunk in the CLI bundle; from the
 * TypeScript sources (tsx, tests), a starter that runs label-worker.ts through tsx.
 */
export function workerScript(): string {
  const bundled = fileURLToPath(new URL('./label-worker.js', import.meta.url));
  return existsSync(bundled) ? bundled : fileURLToPath(new URL('./label-worker-source.mjs', import.meta.url));
}

/** Starts `n` worker threads. */
export const startWorkers = (n: number): Started[] => {
  const file = workerScript();
  return Array.from({ length: n }, () => startWorker(file));
};

/** Starts a worker whose failures are caught from the start (a thread can fail while loading). */
function startWorker(file: string): Started {
  const started: Started = { worker: new Worker(file, { resourceLimits: WORKER_LIMITS }), failure: undefined, online: false, inFlight: 0 };
  started.worker.on('message', (message: { type?: string }) => {
    if (message.type === READY.type) started.online = true;
  });
  started.worker.on('error', (error) => (started.failure ??= error));
  started.worker.on('exit', (code) => (started.failure ??= workerStopped(code)));
  return started;
}

/** A chunk of whole lines of the file, its number in file order and its first line's. */
export interface Chunk {
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly firstLine: number;
}

/** What a run over a file's chunks needs beside the threads. */
export interface ChunksJob<A extends ChunkAnswered> {
  readonly path: string;
  readonly size: number;
  /** the byte of the first chunk (after the header line, line 1) */
  readonly start: number;
  readonly chunkBytes: number;
  /** The task for a chunk, and the buffers to hand over with it (the chunk's own is added). */
  task(chunk: Chunk): { task: unknown; transfer: ArrayBuffer[] };
  /** Takes a chunk's answer, in file order. */
  take(answer: A): Promise<void> | void;
}

/** Counts the line ends in `bytes`. */
function newlines(bytes: Uint8Array): number {
  let n = 0;
  for (let i = bytes.indexOf(NEWLINE); i >= 0; i = bytes.indexOf(NEWLINE, i + 1)) n++;
  return n;
}

/**
 * The first thread ready for a chunk and with room for one (a worker still starting gets none yet,
 * a stand-in none once a worker is ready).
 */
function withRoom(threads: readonly Started[]): Started | undefined {
  const workerReady = threads.some((t) => t.online && !t.standIn);
  return threads.find((t) => t.online && t.inFlight < CHUNKS_PER_THREAD_IN_FLIGHT && !(t.standIn && workerReady));
}

/**
 * One run over the file's chunks: each handed to a thread with room, the answers taken in file
 * order. The first chunk in file order that fails fails the run (its error is thrown).
 */
export async function runChunks<A extends ChunkAnswered>(threads: readonly Started[], job: ChunksJob<A>): Promise<void> {
  const failed = threads.find((t) => t.failure !== undefined);
  if (failed !== undefined) throw failed.failure;
  const finished = new Map<number, A | ChunkFailed>();
  let failure: Error | undefined;
  let stopped = false; // a chunk failed: no more are sent, the ones before it decide what is reported
  // a chunk came back or a thread failed since the main thread last looked
  let signalled = false;
  let wake: (() => void) | undefined;
  const signal = (): void => {
    signalled = true;
    wake?.();
    wake = undefined;
  };
  const listeners = threads.map((started) => {
    const failedWith = (error: Error): void => {
      started.failure ??= error;
      failure ??= error;
      signal();
    };
    const listener = {
      message: (message: A | ChunkFailed | typeof READY) => {
        if (message.type === READY.type) {
          signal();
          return;
        }
        started.inFlight--;
        const answer = message as A | ChunkFailed;
        finished.set(answer.seq, answer);
        if (message.type === 'error') stopped = true;
        signal();
      },
      error: failedWith,
      exit: (code: number) => failedWith(workerStopped(code)),
    };
    started.worker.on('message', listener.message);
    started.worker.on('error', listener.error);
    started.worker.on('exit', listener.exit);
    return listener;
  });
  let sent = 0;
  let taken = 0; // chunks taken so far, in file order
  // buffers that went to a thread and back, to read the next chunks into: fresh memory costs page
  // faults (about 3 ms a megabyte here), a used buffer nothing
  const inputs: Uint8Array[] = [];
  /** Waits until a chunk comes back or a thread fails, unless one did since the last look. */
  const settled = async (): Promise<void> => {
    if (!signalled && failure === undefined) await new Promise<void>((resolve) => (wake = resolve));
    signalled = false;
    if (failure !== undefined) throw failure;
  };
  /** Takes every finished chunk that is next in file order; throws at the first failed one. */
  const takeFinished = async (): Promise<void> => {
    for (let done = finished.get(taken); done !== undefined; done = finished.get(taken)) {
      if (done.type === 'error') throw chunkError(done as ChunkFailed);
      const answer = done as A;
      finished.delete(taken);
      inputs.push(new Uint8Array(answer.input.buffer));
      await job.take(answer);
      taken++;
    }
  };
  const source = await open(job.path, 'r');
  try {
    const window = threads.length * CHUNKS_PER_THREAD_IN_FLIGHT + CHUNKS_AHEAD;
    let offset = job.start;
    let line = 2;
    let carry: Uint8Array = new Uint8Array(0);
    while (offset < job.size || carry.length > 0) {
      // a thread with room, and room in the window of chunks not yet taken
      let free = withRoom(threads);
      while (!stopped && (free === undefined || sent - taken >= window)) {
        await settled();
        await takeFinished();
        free = withRoom(threads);
      }
      if (stopped) break;
      let bytes = inputs.pop();
      if (bytes === undefined || carry.length > CARRY_BYTES) bytes = new Uint8Array(carry.length + job.chunkBytes + CARRY_BYTES);
      bytes.set(carry);
      const { bytesRead } = await source.read(bytes, carry.length, Math.min(job.chunkBytes, bytes.length - carry.length), offset);
      offset += bytesRead;
      const filled = carry.length + bytesRead;
      const atEnd = offset >= job.size || bytesRead === 0;
      const cut = atEnd ? filled : bytes.lastIndexOf(NEWLINE, filled - 1) + 1;
      if (cut === 0) {
        if (atEnd) break;
        carry = bytes.subarray(0, filled); // no line end yet: a very long line, read on
        continue;
      }
      carry = bytes.slice(cut, filled);
      const chunk = { seq: sent++, bytes: bytes.subarray(0, cut), firstLine: line };
      line += newlines(chunk.bytes);
      const { task, transfer } = job.task(chunk);
      free!.inFlight++;
      free!.worker.postMessage(task, [bytes.buffer as ArrayBuffer, ...transfer]);
      if (atEnd) break;
    }
    while (taken < sent) {
      await settled();
      await takeFinished();
    }
  } finally {
    await source.close();
    threads.forEach(({ worker }, i) => {
      const listener = listeners[i]!;
      worker.off('message', listener.message);
      worker.off('error', listener.error);
      worker.off('exit', listener.exit);
    });
  }
}
