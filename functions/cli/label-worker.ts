// Worker thread of `segments assign` on a large local file: labels chunks of whole lines that the
// main thread read, each after the file's header line, with the pass of label-file.ts, and hands
// back each chunk's labeled.csv bytes, counts, rejects and the ids it saw.
// Started by parallel-assign.ts: label-worker.js of the CLI bundle, or label-worker-source.mjs from source.

import { parentPort } from 'node:worker_threads';
import { DuplicateFinder, type DuplicateRecords } from '../../shared/csv/duplicates.ts';
import { CsvBytes } from '../../shared/csv/write.ts';
import { SegmentationError } from '../../shared/errors.ts';
import type { Model } from '../../shared/model/artifact.ts';
import { freshState, labelPass, type PassState } from '../../shared/workflows/label-file.ts';

/** Starts a pass over the file: the chunks that follow are labeled with this model and header. */
export interface PassTask {
  readonly type: 'pass';
  /** the file's header line, line end included */
  readonly header: string;
  readonly model: Model;
  /** superseded line → superseding line (second pass), or null (first pass: the ids are recorded) */
  readonly known: ReadonlyArray<readonly [number, number]> | null;
}

/** Whole lines of the file, from physical line `firstLine` on. */
export interface ChunkTask {
  readonly type: 'chunk';
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly firstLine: number;
  /** a buffer of an earlier chunk's labeled lines, written, to write this chunk's into */
  readonly output: Uint8Array | undefined;
}

export type WorkerTask = PassTask | ChunkTask;

/** A labeled chunk: its labeled.csv lines, what the pass learnt, and (first pass) the ids it saw. */
export interface ChunkDone {
  readonly type: 'done';
  readonly seq: number;
  readonly labeled: Uint8Array;
  /** the chunk's bytes, handed back for the main thread to read another chunk into */
  readonly input: Uint8Array;
  readonly state: PassState;
  readonly records: DuplicateRecords | null;
}

/** A chunk that could not be labeled: the file's problem (InvalidFileError) or a failure. */
export interface ChunkFailed {
  readonly type: 'error';
  readonly seq: number;
  readonly name: string;
  readonly message: string;
  readonly userFacing: boolean;
}

/** A chunk's output is about this many times its input (the label columns): room reserved up front. */
const OUTPUT_PER_INPUT_BYTE = 5;
/**
 * A chunk is parsed in pieces of this many bytes: the parser's batch of rows lives until the batch
 * is labeled, and a young-generation collection copies what lives (a whole megabyte's rows at once
 * made the collector the largest cost).
 */
const PIECE_BYTES = 64 << 10;

interface Pass {
  readonly header: string;
  readonly model: Model;
  readonly known: ReadonlyMap<number, number> | null;
}

let pass: Pass | undefined;
const ids = new DuplicateFinder();
let out: CsvBytes | undefined;

async function* chunkSource(header: string, bytes: Uint8Array): AsyncGenerator<Uint8Array | string> {
  yield header;
  for (let start = 0; start < bytes.length; start += PIECE_BYTES) yield bytes.subarray(start, start + PIECE_BYTES);
}

async function label(task: ChunkTask): Promise<void> {
  const { header, model, known } = pass!;
  const state = freshState();
  ids.clear();
  out ??= new CsvBytes(task.bytes.length * OUTPUT_PER_INPUT_BYTE);
  if (task.output !== undefined) out.adopt(task.output);
  const options = { model, known, ids: known === null ? ids : null, withHeader: false, firstLine: task.firstLine - 1 };
  for await (const _ of labelPass(chunkSource(header, task.bytes), state, options, out));
  const labeled = out.take();
  const records = known === null ? ids.records() : null;
  const done: ChunkDone = { type: 'done', seq: task.seq, labeled, input: task.bytes, state, records };
  const transfer = [labeled.buffer, task.bytes.buffer];
  if (records !== null) transfer.push(records.chars.buffer, records.starts.buffer, records.hashes.buffer, records.lines.buffer);
  parentPort!.postMessage(done, transfer as ArrayBuffer[]);
}

function failed(seq: number, error: unknown): ChunkFailed {
  const { name, message } = error instanceof Error ? error : new Error(String(error));
  // whether the message is for a person travels with it (SegmentationError.userFacing)
  return { type: 'error', seq, name, message, userFacing: error instanceof SegmentationError && error.userFacing };
}

// chunks are labeled one at a time, in the order they come (the main thread keeps a few queued)
let queue = Promise.resolve();
parentPort!.on('message', (task: WorkerTask) => {
  if (task.type === 'pass') {
    queue = queue.then(() => {
      pass = { header: task.header, model: task.model, known: task.known === null ? null : new Map(task.known) };
    });
    return;
  }
  queue = queue.then(() => label(task).catch((error: unknown) => parentPort!.postMessage(failed(task.seq, error))));
});
