// `segments assign` on a large local file, on every core: the file is cut at line ends into one
// part per worker thread, each part is labeled by the same pass as the sequential path
// (label-file.ts), and the parts are joined in file order. The duplicate rule spans the parts:
// the workers hand back the ids they saw, the main thread settles the rule over all of them, and a
// file with duplicates gets a second parallel pass, as the sequential path gets a second pass.
// A file with a quote character anywhere is labeled sequentially (a quoted field may hold a line
// break, so a line end is not always a row end).

import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { DuplicateFinder, type DuplicateRecords } from '../../shared/csv/duplicates.ts';
import { InvalidFileError, SegmentationError } from '../../shared/errors.ts';
import type { Model } from '../../shared/model/artifact.ts';
import type { ResultName, ResultWriter } from '../../shared/ports.ts';
import { finishLabelFile, freshState, labeledHeaderLine, type PassState } from '../../shared/workflows/label-file.ts';
import type { LabelSummary } from '../../shared/workflows/summary.ts';
import { FILE_BUFFER_BYTES, writeFileAtomic } from '../adapters/atomic-file.ts';
import type { PartTask } from './label-worker.ts';

const QUOTE = 0x22;
/** What a line holds when the reader skips it as blank: separators, spaces, a BOM, line ends. */
const BLANK_LINE_CHARACTERS = /[\s,\uFEFF]/g;
const NEWLINE = 0x0a;
/** Below this size a file is labeled on one thread: starting workers costs more than it saves. */
export const PARALLEL_MIN_BYTES = 8 << 20;

/** Where a part starts and the physical line of its first line. */
interface Part {
  readonly start: number;
  readonly end: number;
  readonly line: number;
}

interface Plan {
  readonly header: string;
  readonly parts: readonly Part[];
}

/**
 * Reads the file once for where to cut it: after the header line, then at the first line end past
 * each 1/n of the bytes. Null when it cannot be cut safely (a quote anywhere) or has no data rows.
 */
async function planParts(path: string, size: number, n: number): Promise<Plan | null> {
  const targets = Array.from({ length: n - 1 }, (_, i) => Math.floor(((i + 1) * size) / n));
  const cuts: Array<{ at: number; line: number }> = [];
  const headerBytes: Buffer[] = [];
  let headerEnd = -1;
  let offset = 0;
  let newlines = 0;
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
    if (chunk.includes(QUOTE)) return null;
    for (let i = chunk.indexOf(NEWLINE); i >= 0; i = chunk.indexOf(NEWLINE, i + 1)) {
      newlines++;
      const at = offset + i + 1; // the byte after this line end
      if (headerEnd < 0) {
        headerEnd = at;
        headerBytes.push(chunk.subarray(0, i + 1));
      } else if (cuts.length < targets.length && at > targets[cuts.length]!) cuts.push({ at, line: newlines + 1 });
    }
    if (headerEnd < 0) headerBytes.push(chunk);
    offset += chunk.length;
  }
  if (headerEnd < 0 || headerEnd >= size) return null;
  let header: string;
  try {
    header = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.concat(headerBytes));
  } catch {
    return null; // the sequential path says what is wrong with it
  }
  // a blank first line is not the header (the reader skips it): the sequential path finds the header
  if (header.replace(BLANK_LINE_CHARACTERS, '') === '') return null;
  const starts = [{ at: headerEnd, line: 2 }, ...cuts.filter((c) => c.at < size)];
  const parts = starts.map((s, i) => ({ start: s.at, end: starts[i + 1]?.at ?? size, line: s.line }));
  return { header, parts };
}

interface PartResult {
  readonly state: PassState;
  readonly records: DuplicateRecords | null;
}

/** A started worker, and how it failed if it did before it was given a part. */
interface Started {
  readonly worker: Worker;
  failure: Error | undefined;
}

/** Starts a worker whose failures are caught from the start (a thread can fail while loading). */
function startWorker(file: string): Started {
  const started: Started = { worker: new Worker(file), failure: undefined };
  started.worker.on('error', (error) => (started.failure ??= error));
  started.worker.on('exit', (code) => (started.failure ??= workerStopped(code)));
  return started;
}

const workerStopped = (code: number): Error =>
  new SegmentationError(`a labeling worker stopped unexpectedly (exit code ${code})`, { userFacing: false });

/** Runs one part on a started worker. */
function runPart({ worker, failure }: Started, task: PartTask, onProgress: (rowsRead: number) => void): Promise<PartResult> {
  return new Promise((resolve, reject) => {
    if (failure !== undefined) {
      reject(failure);
      return;
    }
    let settled = false;
    worker.on(
      'message',
      (message: { type: string; rowsRead?: number; name?: string; message?: string; userFacing?: boolean } & Partial<PartResult>) => {
        if (message.type === 'progress') onProgress(message.rowsRead!);
        else if (message.type === 'done') {
          settled = true;
          resolve({ state: message.state!, records: message.records ?? null });
        } else if (message.type === 'error') {
          settled = true;
          // the file's own problems keep their one-line message; anything else is a failure
          reject(
            message.name === InvalidFileError.name
              ? new InvalidFileError(message.message!)
              : new SegmentationError(message.message!, { userFacing: message.userFacing === true }),
          );
        }
      },
    );
    worker.on('error', (error) => {
      settled = true;
      reject(error);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(workerStopped(code));
    });
    worker.postMessage(task);
  });
}

/** One pass over every part at once; each part's labeled lines go to its part file. */
async function pass(
  workers: readonly Started[],
  input: { path: string; model: Model; plan: Plan; partPaths: readonly string[] },
  known: ReadonlyMap<number, number> | null,
  onProgress?: (rowsRead: number) => void,
): Promise<PartResult[]> {
  const progress = input.plan.parts.map(() => 0);
  const knownEntries = known === null ? null : [...known];
  const parts = Promise.all(
    input.plan.parts.map((part, i) =>
      runPart(
        workers[i]!,
        {
          path: input.path,
          start: part.start,
          end: part.end,
          header: input.plan.header,
          firstLine: part.line - 1,
          model: input.model,
          known: knownEntries,
          partPath: input.partPaths[i]!,
        },
        (rowsRead) => {
          progress[i] = rowsRead;
          onProgress?.(progress.reduce((a, b) => a + b, 0));
        },
      ),
    ),
  );
  try {
    return await parts;
  } catch (error) {
    // one part failed: stop the others before the caller removes their part files
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
    throw error;
  }
}

/** The parts' states as one, in file order. */
function merged(results: readonly PartResult[]): PassState {
  const state = freshState();
  state.header = results[0]!.state.header;
  for (const { state: part } of results) {
    state.rowsRead += part.rowsRead;
    state.labeled += part.labeled;
    state.outliers += part.outliers;
    for (const [segment, count] of Object.entries(part.segments)) state.segments[segment] = (state.segments[segment] ?? 0) + count;
    for (const row of part.rejected) state.rejected.push(row);
  }
  return state;
}

async function* joinedParts(header: string, partPaths: readonly string[]): AsyncGenerator<string | Uint8Array> {
  yield header;
  for (const path of partPaths) yield* createReadStream(path, { highWaterMark: FILE_BUFFER_BYTES }) as AsyncIterable<Buffer>;
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
  /** Told how many parts the file is labeled in, when it is. */
  readonly onParts?: (parts: number) => void;
}

/**
 * The worker script: label-worker.js beside this module's chunk in the CLI bundle; from the
 * TypeScript sources (tsx, tests), a starter that runs label-worker.ts through tsx.
 */
function workerScript(): string {
  const bundled = fileURLToPath(new URL('./label-worker.js', import.meta.url));
  return existsSync(bundled) ? bundled : fileURLToPath(new URL('./label-worker-source.mjs', import.meta.url));
}

/**
 * Labels a local file in parallel parts and writes labeled.csv, rejects.csv and summary.json as the
 * sequential path does, byte for byte. Null when the file is not for this path (see the top).
 */
export async function labelFileInParallel(input: ParallelLabelInput): Promise<LabelSummary | null> {
  const workerFile = workerScript();
  if (input.workers < 2) return null;
  const workers: Started[] = [];
  const start = (n: number): Started[] => {
    const started = Array.from({ length: n }, () => startWorker(workerFile));
    workers.push(...started);
    return started;
  };
  let partsDir: string | undefined;
  try {
    // threads start while the file is planned; the ones the plan does not need are stopped
    const file = await stat(input.path);
    if (!file.isFile()) return null; // a pipe or a device is read once, by the sequential path
    const { size } = file;
    const started = start(input.workers);
    const plan = await planParts(input.path, size, input.workers);
    if (plan === null || plan.parts.length < 2) return null;
    await Promise.all(started.slice(plan.parts.length).map(({ worker }) => worker.terminate()));
    input.onParts?.(plan.parts.length);
    const labeled = input.paths['labeled.csv'];
    // the parts go to a directory of their own beside the output (same file system), removed after
    await mkdir(dirname(labeled), { recursive: true });
    partsDir = await mkdtemp(join(dirname(labeled), '.segments-parts-'));
    const partPaths = plan.parts.map((_, i) => join(partsDir!, `part${i}.csv`));
    const job = { path: input.path, model: input.model, plan, partPaths };
    let results = await pass(started, job, null, input.onProgress);
    const ids = new DuplicateFinder();
    for (const { records } of results) ids.append(records!);
    const known = ids.superseded();
    if (known.size > 0) results = await pass(start(plan.parts.length), job, known, input.onProgress);
    const state = merged(results);
    await writeFileAtomic(labeled, joinedParts(labeledHeaderLine(state.header!), partPaths));
    return await finishLabelFile(
      input.writer,
      { source: input.path, model: input.model, startedAt: input.startedAt, clock: input.clock },
      state,
      known.size,
    );
  } finally {
    // a worker still running or waiting (the file failed, or was not for this path) is stopped
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
    if (partsDir !== undefined) await rm(partsDir, { recursive: true, force: true });
  }
}
