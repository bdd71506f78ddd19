// `segments generate --rows <n>`: synthetic mall customers with planted segments, as CSV on stdout or
// in a file.

import { InvalidOptionError } from '../../../shared/errors.ts';
import { generateCsv } from '../../../shared/sample/generate.ts';
import { writeFileAtomic } from '../../adapters/atomic-file.ts';
import { defineCommand, integer } from '../command.ts';

export const generate = defineCommand({
  name: 'generate',
  args: [],
  summary: 'write synthetic mall customers as CSV (on stdout without --out)',
  options: {
    rows: { type: 'string', value: '<n>', help: 'how many customers', required: true },
    seed: { type: 'string', value: '<n>', help: 'random seed (default 1)' },
    'first-id': { type: 'string', value: '<n>', help: 'the first customer_id (default 1)' },
    'age-shift': { type: 'string', value: '<years>', help: 'added to every age, to simulate drift (default 0)' },
    out: { type: 'string', value: '<file>', help: 'write to this file instead of stdout' },
  },
  async run({ values }, { io }) {
    const rows = integer(values.rows, 'rows', 0)!;
    const ageShift = values['age-shift'] === undefined ? 0 : Number(values['age-shift']);
    if (!Number.isFinite(ageShift)) throw new InvalidOptionError('--age-shift must be a number of years');
    const chunks = generateCsv({
      rows,
      seed: integer(values.seed, 'seed', 0) ?? 1,
      firstId: integer(values['first-id'], 'first-id', 0) ?? 1,
      ageShift,
    });
    if (values.out === undefined) {
      for (const chunk of chunks) if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once('drain', r));
      return;
    }
    await writeFileAtomic(values.out, chunks);
    io.err(`${rows} customers written to ${values.out}`);
  },
});
