// Worker thread of `segments assign` on a large local file: labels one part of the file (read after
// the file's header line) into a part file, and hands back its counts, rejects and the ids it saw.
// Started by parallel-assign.ts: label-worker.js of the CLI bundle, or label-worker-source.mjs from source.

import { createReadStream, createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parentPort } from 'node:worker_threads';
import { DuplicateFinder } from '../../shared/csv/duplicates.ts';
import type { Model } from '../../shared/model/artifact.ts';
import { freshState, labeledChunks } from '../../shared/workflows/label-file.ts';
import { FILE_BUFFER_BYTES } from '../adapters/atomic-file.ts';
import { SegmentationError } from '../../shared/errors.ts';

/** What parallel-assign.ts asks of a worker. */
export interface PartTask {
  readonly path: string;
  /** byte range of the part: [start, end) */
  readonly start: number;
  readonly end: number;
  /** the file's header line, line end included */
  readonly header: string;
  /** physical line of the header as this part reads it: the line before the part's first line */
  readonly firstLine: number;
  readonly model: Model;
  /** superseded line → superseding line (second pass), or null (first pass) */
  readonly known: ReadonlyArray<readonly [number, number]> | null;
  /** where the part's labeled lines go (in a directory the main thread removes) */
  readonly partPath: string;
}

async function* partSource(task: PartTask): AsyncGenerator<Uint8Array | string> {
  yield task.header;
  if (task.end > task.start) yield* createReadStream(task.path, { start: task.start, end: task.end - 1 });
}

async function run(task: PartTask): Promise<void> {
  const state = freshState();
  const ids = task.known === null ? new DuplicateFinder() : null;
  const chunks = labeledChunks(partSource(task), state, {
    model: task.model,
    known: task.known === null ? null : new Map(task.known),
    ids,
    withHeader: false,
    firstLine: task.firstLine,
    onProgress: (rowsRead) => parentPort!.postMessage({ type: 'progress', rowsRead }),
  });
  await pipeline(Readable.from(chunks), createWriteStream(task.partPath, { highWaterMark: FILE_BUFFER_BYTES }));
  const records = ids?.records() ?? null;
  const transfer = records === null ? [] : [records.chars.buffer, records.starts.buffer, records.hashes.buffer, records.lines.buffer];
  parentPort!.postMessage({ type: 'done', state, records }, transfer as ArrayBuffer[]);
}

// started before the file is planned (starting a thread overlaps the planning), then told its part
parentPort!.once('message', (task: PartTask) => {
  run(task).catch((error: unknown) => {
    const { name, message } = error instanceof Error ? error : new Error(String(error));
    // whether the message is for a person travels with it (SegmentationError.userFacing)
    const userFacing = error instanceof SegmentationError && error.userFacing;
    parentPort!.postMessage({ type: 'error', name, message, userFacing });
  });
});
