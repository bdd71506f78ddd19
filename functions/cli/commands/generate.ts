// `segments generate --rows <n> [--schema <file.json>]`: synthetic customers with planted segments
// (the mall's, or those of any customer schema), as CSV on stdout or in a file.

import { InvalidOptionError } from '../../../shared/errors.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { writeFileAtomic } from '../../adapters/atomic-file.ts';
import { defineCommand, integer, list } from '../command.ts';
import { readSchema } from '../io.ts';

/** `--shift recency_days=30,fresh=-100` as amounts by feature name. */
function shifts(value: string | undefined): Record<string, number> {
  const shift: Record<string, number> = {};
  for (const item of list(value) ?? []) {
    const [name, by, ...rest] = item.split('=').map((s) => s.trim());
    const amount = Number(by);
    if (name === undefined || name === '' || by === undefined || by === '' || rest.length > 0 || !Number.isFinite(amount)) {
      throw new InvalidOptionError(`--shift takes <feature>=<number>[,…] (got "${item}")`);
    }
    shift[name] = (shift[name] ?? 0) + amount;
  }
  return shift;
}

export const generate = defineCommand({
  name: 'generate',
  args: [],
  summary: "write synthetic mall customers, or a schema's with --schema, as CSV (on stdout without --out)",
  options: {
    rows: { type: 'string', value: '<n>', help: 'how many customers', required: true },
    schema: {
      type: 'string',
      value: '<file.json>',
      help: "columns and segments from this customer schema (default: the mall's)",
    },
    seed: { type: 'string', value: '<n>', help: 'random seed (default 1)' },
    'first-id': { type: 'string', value: '<n>', help: 'the first customer id (default 1)' },
    'age-shift': { type: 'string', value: '<years>', help: 'added to every age, to simulate drift (default 0)' },
    shift: {
      type: 'string',
      value: '<feature>=<n>,…',
      help: 'added to every value of these numeric features, to simulate drift',
    },
    out: { type: 'string', value: '<file>', help: 'write to this file instead of stdout' },
  },
  async run({ values }, { io }) {
    const rows = integer(values.rows, 'rows', 0)!;
    const ageShift = values['age-shift'] === undefined ? undefined : Number(values['age-shift']);
    if (ageShift !== undefined && !Number.isFinite(ageShift)) throw new InvalidOptionError('--age-shift must be a number of years');
    const schema = values.schema === undefined ? undefined : await readSchema(values.schema);
    // checks the schema against the shifts before anything is written
    const chunks = generateCsv({
      rows,
      schema,
      seed: integer(values.seed, 'seed', 0) ?? 1,
      firstId: integer(values['first-id'], 'first-id', 0) ?? 1,
      ageShift,
      shift: shifts(values.shift),
    });
    if (values.out === undefined) {
      for (const chunk of chunks) if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
      return;
    }
    await writeFileAtomic(values.out, chunks);
    io.err(`${rows} customers written to ${values.out}`);
  },
});
