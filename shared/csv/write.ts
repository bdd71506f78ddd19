// CSV text for output files (labeled.csv, rejects.csv, exports): RFC 4180 records with LF line
// ends, every line terminated. A field is quoted only when it must be (or when it has a leading or
// trailing space, which some spreadsheet importers would otherwise trim), the quoting Papa Parse's
// unparse applies; written by hand because per-field checks were a quarter of a million-row
// labeling run through unparse (npm run bench).

/** A field that needs quoting: a quote, separator or line break, a BOM, or edge spaces. */
const NEEDS_QUOTES = /[",\r\n\uFEFF]|^ | $/;
const QUOTE = /"/g;

/** One field as CSV. */
export function csvField(field: string): string {
  return NEEDS_QUOTES.test(field) ? `"${field.replace(QUOTE, '""')}"` : field;
}

/** One record as a CSV line, without its line end. */
export function csvRecord(fields: readonly string[]): string {
  let line = fields.length > 0 ? csvField(fields[0]!) : '';
  for (let i = 1; i < fields.length; i++) line += `,${csvField(fields[i]!)}`;
  return line;
}

/** The rows as CSV lines, each ending in a newline ('' for no rows). */
export function csvLines(rows: readonly (readonly string[])[]): string {
  let text = '';
  for (const row of rows) text += `${csvRecord(row)}\n`;
  return text;
}

const COMMA = 0x2c;
const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const QUOTE_BYTE = 0x22;
const SPACE = 0x20;
const DOT = 0x2e;
const ZERO = 0x30;
const ASCII_END = 0x80;
/** Most bytes a UTF-16 code unit takes in UTF-8 (a surrogate pair: 4 bytes for 2 units). */
const UTF8_PER_UNIT = 3;
/** Most decimals `decimal` formats without toFixed (10^9 still leaves exact integers far below 2^53). */
const MAX_FAST_DECIMALS = 9;
/** Largest scaled value `decimal` formats without toFixed: integers and ties far from a double's precision. */
const MAX_FAST_SCALED = 2 ** 31 - 1;
/** How near a scaled value may come to a rounding tie before toFixed decides (see decimal). */
const TIE_MARGIN = 1e-6;
const POWERS_OF_TEN = Array.from({ length: MAX_FAST_DECIMALS + 1 }, (_, i) => 10 ** i);

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/** `text` as UTF-8 bytes (segment names and other label text, encoded once per model). */
export const utf8 = (text: string): Uint8Array => encoder.encode(text);

/**
 * CSV text written straight into UTF-8 bytes, as csvField and toFixed would write it: a
 * million-row labeled file built as strings spent more on concatenating the lines and flattening
 * them for the write than on labeling. ASCII fields (the usual ids, genders and numbers) are copied
 * a character at a time; anything else goes through csvField and the encoder.
 */
export class CsvBytes {
  private bytes: Uint8Array;
  private at = 0;

  constructor(private readonly capacity = 1 << 16) {
    this.bytes = new Uint8Array(capacity);
  }

  /** Bytes written since the last take or clear. */
  get length(): number {
    return this.at;
  }

  /** The bytes written since the last take or clear, valid until the next write. */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.at);
  }

  /** Forgets what was written, keeping the buffer (once its bytes are used, see view). */
  clear(): void {
    this.at = 0;
  }

  /**
   * The bytes written since the last take or clear, the caller's to keep (a view of the buffer,
   * which the caller may hand back with adopt): later writes go to another buffer.
   */
  take(): Uint8Array {
    const taken = this.bytes.subarray(0, this.at);
    this.bytes = EMPTY;
    this.at = 0;
    return taken;
  }

  /**
   * Writes from now on into `buffer` (one that take gave out and its user is done with: fresh
   * memory costs page faults, about 3 ms a megabyte here, where a used buffer costs nothing).
   */
  adopt(buffer: Uint8Array): void {
    if (this.at > 0) throw new Error('CsvBytes.adopt: the bytes written were not taken');
    this.bytes = buffer;
  }

  /** One field, quoted as csvField quotes it. */
  field(text: string): void {
    const n = text.length;
    const bytes = this.room(n);
    const start = this.at;
    let at = start;
    for (let i = 0; i < n; i++) {
      const unit = text.charCodeAt(i);
      if (unit >= ASCII_END || unit === QUOTE_BYTE || unit === COMMA || unit === NEWLINE || unit === CARRIAGE_RETURN) {
        this.text(csvField(text));
        return;
      }
      bytes[at++] = unit;
    }
    if (n > 0 && (bytes[start] === SPACE || bytes[at - 1] === SPACE)) {
      this.text(csvField(text));
      return;
    }
    this.at = at;
  }

  /** Text as it is (no quoting), UTF-8 encoded: ASCII a byte at a time, the rest from its first other unit by the encoder. */
  text(text: string): void {
    this.textFrom(text, 0, text.length);
  }

  /** text, of text[from, to) (a reader's line, without a string for the part). */
  textFrom(text: string, from: number, to: number): void {
    const bytes = this.room((to - from) * UTF8_PER_UNIT);
    let at = this.at;
    for (let i = from; i < to; i++) {
      const unit = text.charCodeAt(i);
      if (unit >= ASCII_END) {
        const rest = i === 0 && to === text.length ? text : text.substring(i, to);
        this.at = at + encoder.encodeInto(rest, bytes.subarray(at)).written;
        return;
      }
      bytes[at++] = unit;
    }
    this.at = at;
  }

  /** Bytes as they are (label text encoded once, see utf8). */
  raw(source: Uint8Array): void {
    this.room(source.length).set(source, this.at);
    this.at += source.length;
  }

  /** One byte (a separator or line end). */
  byte(value: number): void {
    this.room(1)[this.at++] = value;
  }

  /**
   * `value.toFixed(decimals)`, the same characters, for a fraction of its cost (a million distances
   * a file): the integer nearest value × 10^decimals is taken from the rounded product. A tie
   * n + ½ is itself a double and rounding never crosses a double, so the product lies on the side
   * of the tie the exact value lies on, or on the tie; a tie, anything within TIE_MARGIN of one
   * (a margin to spare), and any value out of the fast range, are left to toFixed.
   */
  decimal(value: number, decimals: number): void {
    const scale = POWERS_OF_TEN[decimals];
    const scaled = scale === undefined ? Number.NaN : value * scale;
    // false for NaN, negative values and Infinity
    if (!(scaled >= 0 && scaled < MAX_FAST_SCALED) || Math.abs(scaled - Math.floor(scaled) - 0.5) <= TIE_MARGIN) {
      this.text(value.toFixed(decimals));
      return;
    }
    // below 2^31: the integer arithmetic of int32 (truncation is floor for these)
    const n = Math.round(scaled) | 0;
    const whole = (n / scale!) | 0;
    let fraction = n - whole * scale!;
    const bytes = this.room(MAX_FAST_DECIMALS + 2 + decimals);
    let at = this.at;
    // the whole part's digits, least significant last
    let digits = 1;
    for (let rest = whole; rest >= 10; rest = (rest / 10) | 0) digits++;
    at += digits;
    for (let i = 1, rest = whole; i <= digits; i++, rest = (rest / 10) | 0) bytes[at - i] = ZERO + (rest % 10);
    if (decimals > 0) {
      bytes[at++] = DOT;
      for (let i = decimals - 1; i >= 0; i--) {
        bytes[at + i] = ZERO + (fraction % 10);
        fraction = (fraction / 10) | 0;
      }
      at += decimals;
    }
    this.at = at;
  }

  /** The buffer, with room for `n` more bytes. */
  private room(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) {
      const next = new Uint8Array(Math.max(this.at + n, this.bytes.length * 2, this.capacity));
      next.set(this.bytes.subarray(0, this.at));
      this.bytes = next;
    }
    return this.bytes;
  }
}
