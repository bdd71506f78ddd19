// Worker thread of `segments assign` on a large local file (chunks.ts): labels chunks of whole
// lines that the main thread read (label-file.ts's labelChunk), and hands back each chunk's
// labeled.csv bytes, counts, rejects and the ids it saw. The main thread labels chunks too, with
// the same ChunkLabeler, while the workers start. Started by chunks.ts: label-worker.js of the CLI
// bundle, or label-worker-source.mjs from source.

import { parentPort } from 'node:worker_threads';
import { DuplicateFinder, type DuplicateRecords } from '../../shared/csv/duplicates.ts';
import { CsvBytes } from '../../shared/csv/write.ts';
import type { Model } from '../../shared/model/artifact.ts';
import { labelChunk, type PassState } from '../../shared/workflows/label-file.ts';
import { chunkFailed, READY, type ChunkFailed } from './chunks.ts';

/** Starts a pass over the file: the chunks that follow are labeled with this model and header. */
export interface PassTask {
  readonly type: 'pass';
  /** the file's header line, line end included */
  readonly header: string;
  readonly model: Model;
  /** superseded line → superseding line (second pass), or null (first pass: the ids are recorded) */
  readonly known: ReadonlyArray<readonly [number, number]> | null;
}

/** Whole lines of the file to label, from physical line `firstLine` on. */
export interface ChunkTask {
  readonly type: 'chunk';
  readonly seq: number;
  readonly bytes: Uint8Array;
  readonly firstLine: number;
  /** a buffer of an earlier chunk's labeled lines, written, to write this chunk's into */
  readonly output: Uint8Array | undefined;
  /** arrays of an earlier chunk's ids, recorded, to copy this chunk's into */
  readonly records: DuplicateRecords | undefined;
}

export type LabelTask = PassTask | ChunkTask;

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

export type ChunkAnswer = ChunkDone | ChunkFailed;

/** A chunk's output is about this many times its input (the label columns): room reserved up front. */
const OUTPUT_PER_INPUT_BYTE = 5;

/**
 * Labels the chunks of a pass one at a time, on whichever thread holds it; `between` is awaited
 * between pieces of a chunk (see labelChunk).
 */
export class ChunkLabeler {
  constructor(private readonly between?: () => Promise<void>) {}

  private pass: { readonly header: string; readonly model: Model; readonly known: ReadonlyMap<number, number> | null } | undefined;
  private readonly ids = new DuplicateFinder();
  private out: CsvBytes | undefined;

  /** Nothing for a pass task; a chunk's labels, or why it has none, for a chunk task. */
  async handle(task: LabelTask): Promise<ChunkAnswer | undefined> {
    if (task.type === 'pass') {
      this.pass = { header: task.header, model: task.model, known: task.known === null ? null : new Map(task.known) };
      return undefined;
    }
    try {
      this.out ??= new CsvBytes(task.bytes.length * OUTPUT_PER_INPUT_BYTE);
      if (task.output !== undefined) this.out.adopt(task.output);
      const chunk = { ...this.pass!, bytes: task.bytes, firstLine: task.firstLine, records: task.records };
      const { labeled, state, records } = await labelChunk(chunk, this.out, this.ids, this.between);
      // the file's header (with its schema and category tables) goes back once, with the first
      // chunk: the main thread takes it from there, and copying it with every answer cost more
      // than the rows' ids
      const answered = task.seq === 0 ? state : { ...state, header: undefined };
      return { type: 'done', seq: task.seq, labeled, input: task.bytes, state: answered, records };
    } catch (error) {
      return chunkFailed(task.seq, error);
    }
  }
}

/** The buffers of an answer, handed over to the main thread rather than copied. */
export function transferred(answer: ChunkAnswer): ArrayBuffer[] {
  if (answer.type === 'error') return [];
  const buffers = [answer.labeled.buffer, answer.input.buffer];
  const { records } = answer;
  if (records !== null) buffers.push(records.chars.buffer, records.starts.buffer, records.hashes.buffer, records.lines.buffer);
  return buffers as ArrayBuffer[];
}

// in a worker thread: tasks are handled one at a time, in the order they come (the main thread
// keeps a chunk queued, so the worker never waits for the next)
if (parentPort !== null) {
  const port = parentPort;
  const labeler = new ChunkLabeler();
  let queue = Promise.resolve();
  port.on('message', (task: LabelTask) => {
    queue = queue.then(async () => {
      const answer = await labeler.handle(task);
      if (answer !== undefined) port.postMessage(answer, transferred(answer));
    });
  });
  port.postMessage(READY);
}
