// The labeling pipeline (ingest and `segments assign`): what a sink sees and when, the duplicate
// rule with a model that cannot place every row, files without a model, and bad files.

import { describe, expect, it } from 'vitest';
import { InvalidFileError } from '../../../shared/errors.ts';
import type { Model } from '../../../shared/model/artifact.ts';
import type { ResultName, ResultWriter } from '../../../shared/ports.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import {
  labelFile,
  NO_ACTIVE_MODEL_WARNING,
  type LabeledRow,
  type LabeledRowSink,
  type LabelFileInput,
} from '../../../shared/workflows/label-file.ts';
import type { LabelSummary } from '../../../shared/workflows/summary.ts';
import { womenOnlyModel } from './women-only-model.ts';

const womenOnly = womenOnlyModel();

const HEADER = 'customer_id,gender,age,annual_income_thousands,spending_score';
const women = (rows: number, seed: number): string[] =>
  [...generateCsv({ rows, seed })].join('').replaceAll(',Male,', ',Female,').trimEnd().split('\n').slice(1);

/** A ResultWriter in memory; `events` receives one entry per chunk of labeled.csv as it is consumed. */
class MemoryWriter implements ResultWriter {
  readonly files = new Map<ResultName, string>();
  constructor(private readonly events: string[] = []) {}

  async write(name: ResultName, content: AsyncIterable<string> | string): Promise<string> {
    let text = '';
    if (typeof content === 'string') text = content;
    else
      for await (const chunk of content) {
        if (name === 'labeled.csv') this.events.push(`wrote ${chunk.trimEnd().split('\n').length}: ${idsOf(chunk).join(' ')}`);
        text += chunk;
      }
    this.files.set(name, text);
    return name;
  }

  async remove(name: ResultName): Promise<void> {
    this.files.delete(name);
  }
}

const idsOf = (text: string): string[] =>
  text
    .trimEnd()
    .split('\n')
    .map((line) => line.split(',')[0]!)
    .filter((id) => id !== 'customer_id');

/** A sink that records each batch; ids in `created` come back as created. */
function recordingSink(
  batchRows: number,
  events: string[],
  created: ReadonlySet<string> = new Set(),
): LabeledRowSink & { batches: LabeledRow[][] } {
  const batches: LabeledRow[][] = [];
  return {
    batchRows,
    batches,
    store: async (rows) => {
      batches.push([...rows]);
      events.push(`stored ${rows.length}: ${rows.map((r) => r.customer.customerId).join(' ')}`);
      return new Set(rows.map((r) => r.customer.customerId).filter((id) => created.has(id)));
    },
  };
}

async function label(
  text: string,
  options: { model?: Model | null; sink?: LabeledRowSink; events?: string[] } = {},
): Promise<{ files: Map<ResultName, string>; summary: LabelSummary; opens: number }> {
  const writer = new MemoryWriter(options.events);
  let opens = 0;
  const input: LabelFileInput = {
    open: async function* () {
      opens++;
      // in small pieces, so that a pass has many batches
      for (let i = 0; i < text.length; i += 500) yield Buffer.from(text.slice(i, i + 500));
    },
    source: 'test.csv',
    model: options.model === undefined ? womenOnly : options.model,
    startedAt: new Date('2026-01-01T00:00:00Z'),
    clock: () => new Date('2026-01-01T00:00:01Z'),
    sink: options.sink,
  };
  const summary = await labelFile(input, writer);
  return { files: writer.files, summary, opens };
}

describe('labelFile', () => {
  it('hands a sink only the winning rows, in file order, in batches of at most batchRows, each before its lines are written', async () => {
    const rows = women(95, 3);
    // line 2 + i is rows[i]; a reject at line 97; 0000004 again at line 98 supersedes line 5
    const text = `${HEADER}\n${rows.join('\n')}\n0000099,Female,200,40,50\n${rows[3]}\n`;
    const events: string[] = [];
    const sink = recordingSink(20, events);
    const { files, summary, opens } = await label(text, { sink, events });
    expect(opens).toBe(2);
    expect(summary).toMatchObject({ rowsRead: 97, rowsAccepted: 95, rowsRejected: 2, duplicates: 1 });
    expect(sink.batches.map((b) => b.length)).toEqual([20, 20, 20, 20, 15]);
    const stored = sink.batches.flat().map((r) => r.customer.customerId);
    expect(stored).toEqual(idsOf(files.get('labeled.csv')!));
    expect(stored.filter((id) => id === '0000004')).toHaveLength(1);
    expect(stored.at(-1)).toBe('0000004');
    // every line is written after the batch that stored its row
    const storedAt = new Map<string, number>();
    events.forEach((event, i) => {
      if (event.startsWith('stored')) for (const id of event.split(': ')[1]!.split(' ')) storedAt.set(id, i);
    });
    events.forEach((event, i) => {
      if (!event.startsWith('wrote')) return;
      for (const id of event.split(': ')[1]!.split(' ').filter(Boolean)) expect(storedAt.get(id)).toBeLessThan(i);
    });
  });

  it('writes the same bytes with and without a sink, and says created for the ids the sink names', async () => {
    const rows = women(60, 4);
    const text = `${HEADER}\n${rows.slice(0, 30).join('\n')}\n0000007,Male,30,40,50\n${rows.slice(30).join('\n')}\n${rows[9]}\n`;
    const plain = await label(text);
    const stored = await label(text, { sink: recordingSink(7, []) });
    expect(plain.opens).toBe(2); // a duplicate: the CLI's pass wrote labeled.csv again
    for (const name of ['labeled.csv', 'rejects.csv', 'summary.json'] as const) expect(stored.files.get(name)).toBe(plain.files.get(name));
    const created = await label(text, { sink: recordingSink(7, [], new Set(['0000001', '0000007'])) });
    const origins = created.files
      .get('labeled.csv')!
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => `${line.split(',')[0]} ${line.split(',')[7]}`);
    expect(origins.filter((o) => o.endsWith('created'))).toEqual(['0000001 created']);
    expect(origins).toContain('0000002 assigned');
    expect(plain.files.get('labeled.csv')).not.toContain(',created,');
  });

  it('stores up to inFlight batches at once, answered in any order, and still writes labeled.csv in file order', async () => {
    const rows = women(230, 7);
    const text = `${HEADER}\n${rows.join('\n')}\n0000099,Female,200,40,50\n${rows[40]}\n`;
    let storing = 0;
    let most = 0;
    const numbers: number[] = [];
    const sink: LabeledRowSink = {
      batchRows: 10,
      inFlight: 3,
      store: async (batch, number) => {
        numbers.push(number);
        most = Math.max(most, ++storing);
        // later batches answer first: a batch's answer waits (batch number % 3) turns of the event loop less
        for (let turn = 0; turn < 3 - (number % 3); turn++) await new Promise((resolve) => setTimeout(resolve, 1));
        storing--;
        return new Set(batch.filter((_, i) => i === 0).map((r) => r.customer.customerId));
      },
    };
    const plain = await label(text);
    const stored = await label(text, { sink });
    expect(most).toBe(3);
    expect(numbers).toEqual(Array.from({ length: 23 }, (_, i) => i));
    const withoutOrigin = (csv: string): string => csv.replaceAll(',created,', ',assigned,');
    expect(withoutOrigin(stored.files.get('labeled.csv')!)).toBe(plain.files.get('labeled.csv'));
    for (const name of ['rejects.csv', 'summary.json'] as const) expect(stored.files.get(name)).toBe(plain.files.get(name));
    // the first row of every batch is 'created': each line got its own batch's answer
    const origins = stored.files
      .get('labeled.csv')!
      .trimEnd()
      .split('\n')
      .slice(1)
      .map((line) => line.split(',')[7]);
    expect(origins.map((o, i) => (o === 'created') === (i % 10 === 0))).not.toContain(false);
  });

  it('fails with the first failing batch: no labeled.csv or rejects.csv, and no batch left storing', async () => {
    const text = `${HEADER}\n${women(100, 8).join('\n')}\n0000101,Robot,30,40,50\n`;
    const writer = new MemoryWriter();
    let storing = 0;
    const sink: LabeledRowSink = {
      batchRows: 10,
      inFlight: 4,
      store: async (_, number) => {
        storing++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        storing--;
        if (number === 5) throw new Error('the database went away');
        return new Set();
      },
    };
    const input: LabelFileInput = {
      open: async function* () {
        yield Buffer.from(text);
      },
      source: 'test.csv',
      model: womenOnly,
      startedAt: new Date(),
      clock: () => new Date(),
      sink,
    };
    await expect(labelFile(input, writer)).rejects.toThrow('the database went away');
    expect(storing).toBe(0);
    expect(writer.files.size).toBe(0);
  });

  it('reads a file without duplicates once when there is no sink', async () => {
    const { opens, summary } = await label(`${HEADER}\n${women(10, 5).join('\n')}\n`);
    expect(opens).toBe(1);
    expect(summary).toMatchObject({ rowsRead: 10, rowsAccepted: 10, duplicates: 0 });
  });

  it('keeps the reason of a row the model cannot place when a later row has its id, and lets such a row supersede an earlier one', async () => {
    const text = [
      HEADER,
      '0000001,Male,30,40,50', // line 2: cannot be placed; a later row has its id
      '0000002,Female,31,41,51', // line 3: superseded by line 5, which cannot be placed
      '0000001,Female,32,42,52', // line 4: labeled
      '0000002,Male,33,43,53', // line 5: cannot be placed
    ].join('\n');
    const { files, summary } = await label(`${text}\n`, { sink: recordingSink(10, []) });
    expect(summary).toMatchObject({ rowsRead: 4, rowsAccepted: 1, rowsRejected: 3, duplicates: 1 });
    const unseen = `gender ""Male"" was not seen when model ${womenOnly.modelVersion} was trained`;
    expect(files.get('rejects.csv')).toBe(
      [
        `line,customer_id,reason,${HEADER}`,
        `2,0000001,"${unseen}",0000001,Male,30,40,50`,
        '3,0000002,"duplicate customer_id, superseded by line 5",0000002,Female,31,41,51',
        `5,0000002,"${unseen}",0000002,Male,33,43,53`,
        '',
      ].join('\n'),
    );
    expect(idsOf(files.get('labeled.csv')!)).toEqual(['0000001']);
  });

  it('validates and stores rows without labels when there is no model, and says so', async () => {
    const text = `${HEADER},note\n0000001,Male,30,40,50,"a, b"\n0000002,Robot,30,40,50,x\n0000001,F,31,41,51,\n`;
    const sink = recordingSink(10, []);
    const { files, summary } = await label(text, { model: null, sink });
    expect(files.get('labeled.csv')).toBe(
      `${HEADER},note,segment,segment_name,segment_origin,segment_distance,is_outlier,model_version\n0000001,F,31,41,51,,,,,,,\n`,
    );
    expect(sink.batches.flat()).toEqual([
      { customer: { customerId: '0000001', gender: 'Female', age: 31, annual_income_thousands: 41, spending_score: 51 }, assignment: null },
    ]);
    expect(summary).toMatchObject({
      status: 'ok',
      warnings: [NO_ACTIVE_MODEL_WARNING],
      modelVersion: null,
      rowsRead: 3,
      rowsAccepted: 1,
      rowsRejected: 2,
      duplicates: 1,
      segments: {},
      outliers: 0,
    });
  });

  it('finds a file that breaks the contract at its end before a sink sees a row or anything is written', async () => {
    const text = `${HEADER}\n${women(50, 6).join('\n')}\n0000051,Female,30,40,\u000050\n`;
    const sink = recordingSink(10, []);
    const writer = new MemoryWriter();
    const chunks = (): AsyncIterable<Uint8Array> =>
      (async function* () {
        yield Buffer.from(text);
      })();
    await expect(
      labelFile({ open: chunks, source: 'bad.csv', model: womenOnly, startedAt: new Date(), clock: () => new Date(), sink }, writer),
    ).rejects.toThrow(InvalidFileError);
    expect(sink.batches).toEqual([]);
    expect(writer.files.size).toBe(0);
  });
});
