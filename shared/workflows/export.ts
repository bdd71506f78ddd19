// Campaign lists: the customers of one segment of the active model, as a CSV ready for a mailing
// tool, streamed page by page from the table to wherever the caller writes (a file, S3). Columns:
// customer_id, the table's feature columns (its schema's, in order), then the labels.

import { csvLines } from '../csv/write.ts';
import { InvalidOptionError } from '../errors.ts';
import type { Model } from '../model/artifact.ts';
import type { CustomerRepository } from '../ports.ts';

/** The label columns after the features. */
const LABEL_COLUMNS = ['segment', 'segment_name', 'segment_origin', 'segment_distance', 'is_outlier', 'model_version'] as const;

/** A segment of `model` by id (`3`) or by name (case-insensitive), with a clear error otherwise. */
export function findSegment(model: Model, selector: string | number): Model['segments'][number] {
  const text = String(selector).trim();
  const byId = /^\d+$/.test(text) ? model.segments.find((s) => s.id === Number(text)) : undefined;
  const found = byId ?? model.segments.find((s) => s.name.toLowerCase() === text.toLowerCase());
  if (!found) {
    const known = model.segments.map((s) => `${s.id} (${s.name})`).join(', ');
    throw new InvalidOptionError(`model ${model.modelVersion} has no segment "${text}"; its segments are ${known}`);
  }
  return found;
}

export interface ExportOutcome {
  readonly modelVersion: string;
  readonly segment: number;
  readonly name: string;
  readonly rows: number;
  readonly uri: string;
}

/** Writes the segment's customers through `write` (which stores the CSV text and says where). */
export async function exportSegment(
  repo: CustomerRepository,
  model: Model,
  selector: string | number,
  write: (content: AsyncIterable<string>) => Promise<string>,
): Promise<ExportOutcome> {
  const segment = findSegment(model, selector);
  const columns = ['customer_id', ...repo.schema.features.map((f) => f.name), ...LABEL_COLUMNS];
  let rows = 0;
  async function* content(): AsyncGenerator<string> {
    yield csvLines([columns]);
    for await (const page of repo.readSegment(model.modelVersion, segment.id)) {
      rows += page.length;
      yield csvLines(page.map((r) => columns.map((c) => (r[c] === null || r[c] === undefined ? '' : String(r[c])))));
    }
  }
  const uri = await write(content());
  return { modelVersion: model.modelVersion, segment: segment.id, name: segment.name, rows, uri };
}
