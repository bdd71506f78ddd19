// The training data's fingerprint: SHA-256 over the accepted rows in a canonical form, recorded in
// the model artifact (design.md, `training.fingerprint`).

import { createHash } from 'node:crypto';
import { columnsOf, type Customers } from './columns.ts';

/** SHA-256 over the accepted rows in a canonical form, independent of file formatting (streamed, no copy). */
export function fingerprint(customers: Customers): string {
  const columns = columnsOf(customers);
  const hash = createHash('sha256');
  for (let i = 0; i < columns.length; i++) {
    const c = columns.at(i);
    hash.update(
      `${i === 0 ? '' : '\n'}${c.customerId}\u001f${c.gender}\u001f${c.age}\u001f${c.annualIncomeThousands}\u001f${c.spendingScore}`,
    );
  }
  return hash.digest('hex');
}
