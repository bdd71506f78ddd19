// The training data's fingerprint: SHA-256 over the accepted rows in a canonical form, recorded in
// the model artifact (design.md, `training.fingerprint`).

import { createHash, type Hash } from 'node:crypto';
import { columnsOf, type Customers } from './columns.ts';
import type { Gender } from './contract.ts';

/** Bytes of canonical text hashed at a time. */
const BUFFER_BYTES = 1 << 16;
const NEWLINE = 0x0a;
const UNIT_SEPARATOR = 0x1f;
const ASCII_MAX = 0x7f;
const DIGIT_0 = 0x30;
/** Most UTF-8 bytes one UTF-16 code unit takes (a surrogate pair's four bytes are two units' six). */
const MAX_UTF8_PER_UNIT = 3;
/** Room for the separators, the gender and three numbers as String() prints them (at most 25 characters each). */
const ROW_ROOM = 96;
/** Whole numbers below this print as their digits: written without a string. */
const PLAIN_INTEGER_LIMIT = 1e15;

/**
 * The canonical text of the rows — `id␟gender␟age␟income␟score`, numbers as String() prints them,
 * rows joined by line feeds, UTF-8 — hashed with SHA-256 a 64 KiB buffer at a time: no string per
 * row and one hash update per buffer, where a template string and an update per row took about
 * 450 ms a million rows. The reader feeds it as it reads (see readCustomerColumns).
 */
export class Fingerprinter {
  private readonly hash: Hash = createHash('sha256');
  private readonly buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private at = 0;
  private rows = 0;
  private done = false;

  /** Appends the next row. */
  add(customerId: string, gender: Gender, age: number, income: number, score: number): void {
    const idRoom = customerId.length * MAX_UTF8_PER_UNIT;
    if (this.at + idRoom + ROW_ROOM > BUFFER_BYTES) this.flush();
    if (this.rows++ > 0) this.buffer[this.at++] = NEWLINE;
    if (idRoom + ROW_ROOM > BUFFER_BYTES) {
      // an id longer than the buffer goes to the hash on its own
      this.flush();
      this.hash.update(customerId, 'utf8');
    } else this.text(customerId);
    this.buffer[this.at++] = UNIT_SEPARATOR;
    this.text(gender);
    this.buffer[this.at++] = UNIT_SEPARATOR;
    this.number(age);
    this.buffer[this.at++] = UNIT_SEPARATOR;
    this.number(income);
    this.buffer[this.at++] = UNIT_SEPARATOR;
    this.number(score);
  }

  /** The hex digest; the fingerprinter takes no more rows after it. */
  digest(): string {
    if (this.done) throw new Error('the fingerprint was already taken');
    this.done = true;
    this.flush();
    return this.hash.digest('hex');
  }

  private flush(): void {
    if (this.at > 0) this.hash.update(this.buffer.subarray(0, this.at));
    this.at = 0;
  }

  /** Writes text as UTF-8: ASCII byte by byte, the rest from its first non-ASCII unit by Buffer.write. */
  private text(text: string): void {
    const buffer = this.buffer;
    for (let i = 0; i < text.length; i++) {
      const unit = text.charCodeAt(i);
      if (unit > ASCII_MAX) {
        this.at += buffer.write(i === 0 ? text : text.substring(i), this.at, 'utf8');
        return;
      }
      buffer[this.at++] = unit;
    }
  }

  /** Writes a number as String() prints it. */
  private number(value: number): void {
    if (!(Number.isInteger(value) && value >= 0 && value < PLAIN_INTEGER_LIMIT)) {
      this.text(String(value));
      return;
    }
    let digits = 1;
    for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
    let rest = value;
    for (let i = this.at + digits - 1; i >= this.at; i--) {
      const next = Math.floor(rest / 10);
      this.buffer[i] = DIGIT_0 + (rest - next * 10);
      rest = next;
    }
    this.at += digits;
  }
}

/** SHA-256 over the accepted rows in a canonical form, independent of file formatting. */
export function fingerprint(customers: Customers): string {
  const columns = columnsOf(customers);
  if (columns.fingerprint !== undefined) return columns.fingerprint;
  const rows = new Fingerprinter();
  for (let i = 0; i < columns.length; i++) {
    const c = columns.at(i);
    rows.add(c.customerId, c.gender, c.age, c.annualIncomeThousands, c.spendingScore);
  }
  return rows.digest();
}
