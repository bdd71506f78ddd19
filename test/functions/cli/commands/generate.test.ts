// `segments generate`, run as a process: the mall's file as before, any schema's with --schema, and
// a schema file that is not one refused in one line, with no output file.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { generateCsv } from '../../../../shared/sample/generate.ts';
import { parseCustomerSchema } from '../../../../shared/schema/customer-schema.ts';
import { runSegments } from '../../../support/cli.ts';
import { withTempDir } from '../../../support/temp.ts';

const ROOT = join(import.meta.dirname, '../../../..');
const WHOLESALE = join(ROOT, 'shared/schema/examples/wholesale.json');

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The `segments` executable package.json declares, as a user runs it. */
async function segments(...argv: string[]): Promise<Run> {
  const { bin } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { bin: { segments: string } };
  return new Promise((resolve) => {
    execFile('node', [join(ROOT, bin.segments), ...argv], { maxBuffer: 64 << 20 }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? -1), stdout, stderr }),
    );
  });
}

let dir: { path: string; remove(): Promise<void> };
const file = (name: string): string => join(dir.path, name);

beforeEach(async () => {
  dir = await withTempDir('cli-generate');
  return () => dir.remove();
});

describe('segments generate', () => {
  it('writes the mall file as the generator does, and any schema’s with --schema', async () => {
    const mall = await segments('generate', '--rows', '40', '--seed', '2');
    expect(mall).toEqual({ code: 0, stdout: [...generateCsv({ rows: 40, seed: 2 })].join(''), stderr: '' });

    const schema = parseCustomerSchema(JSON.parse(await readFile(WHOLESALE, 'utf8')), 'wholesale.json');
    const out = file('wholesale.csv');
    const run = await segments('generate', '--rows', '300', '--seed', '5', '--first-id', '1001', '--schema', WHOLESALE, '--out', out);
    expect(run).toEqual({ code: 0, stdout: '', stderr: `300 customers written to ${out}\n` });
    const text = await readFile(out, 'utf8');
    expect(text).toBe([...generateCsv({ rows: 300, seed: 5, firstId: 1001, schema })].join(''));
    expect(text.split('\n')[0]).toBe('client_code,Channel,Region,Recency_Days,Orders_Per_Year,Fresh,Milk,Grocery,Frozen,Detergents_Paper');
    expect(text.split('\n')[1]).toMatch(/^0001001,(horeca|retail),(lisbon|oporto|other),\d+,\d+(,\d+(\.\d{1,2})?){5}$/);
  });

  it('refuses a schema that is not one in one line naming the field, exits non-zero and writes no file', async () => {
    const bad = file('bad.json');
    const json = JSON.parse(await readFile(WHOLESALE, 'utf8'));
    json.features[3].weight = 0;
    await writeFile(bad, JSON.stringify(json));
    const out = file('out.csv');
    expect(await segments('generate', '--rows', '10', '--schema', bad, '--out', out)).toEqual({
      code: 1,
      stdout: '',
      stderr: `segments: ${bad}: features[3].weight: must be greater than 0\n`,
    });
    expect(existsSync(out)).toBe(false);
  });

  it.each([
    ['not JSON', '{ "name": ', (path: string) => `${path}: not JSON (`],
    [
      'a column named twice',
      null,
      (path: string) => `${path}: features[1].header: column "channel" is already named by features[0].header`,
    ],
  ])('refuses a schema file with %s', async (_, content, message) => {
    const path = file('schema.json');
    const json = JSON.parse(await readFile(WHOLESALE, 'utf8'));
    json.features[1].header = 'channel';
    await writeFile(path, content ?? JSON.stringify(json));
    const r = await runSegments(['generate', '--rows', '10', '--schema', path, '--out', file('out.csv')]);
    expect(r.code).toBe(1);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toContain(message(path));
    expect(existsSync(file('out.csv'))).toBe(false);
  });

  it('refuses a missing schema file, and a shift of a feature the schema lacks, before writing', async () => {
    const missing = await runSegments(['generate', '--rows', '10', '--schema', file('none.json')]);
    expect(missing).toMatchObject({ code: 1, out: [] });
    expect(missing.err.join('\n')).toContain(`file not found: ${file('none.json')}`);
    const out = file('out.csv');
    const aged = await runSegments(['generate', '--rows', '10', '--schema', WHOLESALE, '--age-shift', '5', '--out', out]);
    expect(aged.code).toBe(1);
    expect(aged.err.join('\n')).toContain('the schema has no numeric feature "age" to shift');
    const bad = await runSegments(['generate', '--rows', '10', '--shift', 'age', '--out', out]);
    expect(bad.err.join('\n')).toContain('--shift takes <feature>=<number>');
    expect(existsSync(out)).toBe(false);
  });

  it('shifts the named numeric features with --shift', async () => {
    const schema = parseCustomerSchema(JSON.parse(await readFile(WHOLESALE, 'utf8')), 'wholesale.json');
    const out = file('shifted.csv');
    const r = await runSegments([
      'generate',
      '--rows',
      '50',
      '--schema',
      WHOLESALE,
      '--shift',
      'recency_days=-20, fresh=100',
      '--out',
      out,
    ]);
    expect(r.code).toBe(0);
    expect(await readFile(out, 'utf8')).toBe([...generateCsv({ rows: 50, schema, shift: { recency_days: -20, fresh: 100 } })].join(''));
    expect(await readFile(out, 'utf8')).not.toBe([...generateCsv({ rows: 50, schema })].join(''));
  });

  it('documents --schema and --shift in its usage', async () => {
    const r = await runSegments(['generate', '--help']);
    expect(r.out.join('\n')).toMatch(/--schema <file\.json> +columns and segments from this customer schema/);
    expect(r.out.join('\n')).toContain('--shift <feature>=<n>,…');
  });
});
