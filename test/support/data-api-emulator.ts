// A small RDS Data API emulator for tests: speaks restJson1 to the unmodified
// @aws-sdk/client-rds-data, runs each statement on a real PostgreSQL through `pg`, enforces the real
// service's limits and lets a test inject the faults the real service produces (resuming, throttling).

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pg from 'pg';
import { toPositional } from '../../shared/sql/named-parameters.ts';

export interface DataApiEmulator {
  /** `http://127.0.0.1:<port>`: give it to the SDK as `endpoint` or `AWS_ENDPOINT_URL_RDS_DATA`. */
  readonly endpoint: string;
  readonly faults: FaultInjector;
  /**
   * For assertions. `executeCalls` counts every ExecuteStatement request received (SDK retries and
   * failed calls included); the byte maxima include requests and responses rejected for their size.
   */
  readonly stats: { executeCalls: number; maxRequestBytes: number; maxResponseBytes: number };
  close(): Promise<void>;
}

export interface FaultInjector {
  /** The next `times` calls (any operation) fail with this error name, e.g. 'DatabaseResumingException' (HTTP 400), 'ThrottlingException' (HTTP 429), 'ServiceUnavailableError' (503). */
  failNext(errorName: string, times?: number, message?: string): void;
  /** Execute calls whose SQL matches `pattern` fail (DatabaseErrorException-like, or the given name) after `afterCalls` successful matching calls. */
  failWhen(pattern: RegExp, options?: { afterCalls?: number; errorName?: string; message?: string }): void;
  clear(): void;
}

export interface DataApiEmulatorOptions {
  /**
   * The PostgreSQL database every call runs in. A request's `database` is accepted and ignored (the
   * real service would switch to it), so tests may keep a production-like DB_NAME.
   */
  readonly databaseUrl: string;
  /** When set, requests naming another cluster ARN fail with BadRequestException. */
  readonly resourceArn?: string;
  /** When set, requests naming another secret ARN fail with BadRequestException. */
  readonly secretArn?: string;
}

// Limits of the real service (Aurora Serverless v2 / provisioned, "Data API limitations").
const MIB = 1024 * 1024;
const MAX_REQUEST_BYTES = 4 * MIB;
const MAX_RESPONSE_BYTES = 1 * MIB;
const MAX_ROW_BYTES = 64 * 1024;
const RESPONSE_TOO_LARGE = 'Database returned more than the allowed response size limit';
// Our own choices.
const POOL_SIZE = 20;
const TRANSACTION_ID_BYTES = 48;
const HTTP_OK = 200;

// What @aws-sdk/client-rds-data 3.1143 (standard retry mode, default maxAttempts 3) does with these,
// observed against this emulator and pinned by its tests: it retries ThrottlingException (by name
// or by 429; 500 ms backoff base), ServiceUnavailableError (503), InternalServerErrorException (500)
// and DatabaseUnavailableException (504) on its own (100 ms base). Every 400 — DatabaseResumingException,
// StatementTimeoutException, DatabaseErrorException, BadRequestException — and every 404 reach the
// caller at once: retrying while an auto-paused cluster resumes is the application's job.
const ERROR_STATUS: Readonly<Record<string, number>> = {
  BadRequestException: 400,
  DatabaseErrorException: 400,
  DatabaseResumingException: 400,
  StatementTimeoutException: 400,
  InvalidSecretException: 400,
  AccessDeniedException: 403,
  ForbiddenException: 403,
  NotFoundException: 404,
  TransactionNotFoundException: 404,
  DatabaseNotFoundException: 404,
  UnknownOperationException: 404,
  ThrottlingException: 429,
  InternalServerErrorException: 500,
  ServiceUnavailableError: 503,
  DatabaseUnavailableException: 504,
};
const DEFAULT_ERROR_STATUS = 400;

const DEFAULT_FAULT_MESSAGES: Readonly<Record<string, string>> = {
  DatabaseResumingException:
    'The Aurora DB instance emulator-instance is resuming after being auto-paused. Please wait a few seconds and try again.',
  ThrottlingException: 'Rate exceeded',
  ServiceUnavailableError: 'The service is unavailable. Try again later.',
  StatementTimeoutException: 'Request timed out',
  DatabaseErrorException: 'ERROR: fault injected by the Data API emulator; SQLState: XX000',
};

// PostgreSQL type OIDs the emulator converts specially; everything else comes back as stringValue.
const OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  float4: 700,
  float8: 701,
  timestamptz: 1184,
  numeric: 1700,
} as const;
const TEXT_ARRAY_OID = 1009;
/** pg's parser for text[]: splits any array's text output into (nested) element strings and nulls. */
const parseTextArray = (pg.types.getTypeParser as (oid: number) => (text: string) => unknown[])(TEXT_ARRAY_OID);
// Array type OID → element type OID, for the arrays a result may reasonably hold.
const ARRAY_ELEMENT_OID: ReadonlyMap<number, number> = new Map([
  [1000, 16],
  [1001, 17],
  [1005, 21],
  [1007, 23],
  [1016, 20],
  [1021, 700],
  [1022, 701],
  [1231, 1700],
  [1009, 25],
  [1015, 1043],
  [1014, 1042],
  [2951, 2950],
  [1182, 1082],
  [1115, 1114],
  [1185, 1184],
  [199, 114],
  [3807, 3802],
]);
// java.sql.Types codes, as the real service reports them in columnMetadata.type.
const JDBC_TYPE: ReadonlyMap<number, number> = new Map([
  [16, -7],
  [17, -2],
  [20, -5],
  [21, 5],
  [23, 4],
  [26, -5],
  [700, 7],
  [701, 8],
  [1700, 2],
  [25, 12],
  [1043, 12],
  [1042, 1],
  [1082, 91],
  [1083, 92],
  [1114, 93],
  [1184, 93],
]);
const JDBC_ARRAY = 2003;
const JDBC_OTHER = 1111;
const NULLABLE_UNKNOWN = 2;
// numeric(p, s) reaches the client as the type modifier ((p << 16) | s) + VARHDRSZ.
const VARHDRSZ = 4;
const NUMERIC_PRECISION_SHIFT = 16;
const NUMERIC_SCALE_MASK = 0xffff;
const SIGNED_OIDS: ReadonlySet<number> = new Set([20, 21, 23, 700, 701, 1700]);

// Parameter binding: typeHint → PostgreSQL type for a stringValue; the value formats the real
// service documents as the only accepted forms for the date/time hints (no ISO `T`, no offset).
const HINT_TYPE: Readonly<Record<string, string>> = {
  DATE: 'date',
  TIME: 'time',
  TIMESTAMP: 'timestamp',
  DECIMAL: 'numeric',
  JSON: 'jsonb',
  UUID: 'uuid',
};
const HINT_FORMAT: Readonly<Record<string, RegExp>> = {
  DATE: /^\d{4}-\d{2}-\d{2}$/,
  TIME: /^\d{2}:\d{2}:\d{2}(\.\d{1,9})?$/,
  TIMESTAMP: /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/,
};

/** pg hands every value over as PostgreSQL's text output; the emulator converts it by type itself. */
const RAW_TEXT_TYPES = { getTypeParser: () => (value: string) => value } as unknown as pg.CustomTypesConfig;
/** The session time zone of every emulator connection, as on Aurora; timestamptz is shown in it. */
const SESSION_OPTIONS = '-c TimeZone=UTC';

type JsonObject = Record<string, unknown>;

interface ArrayValue {
  booleanValues?: (boolean | null)[];
  longValues?: (number | null)[];
  doubleValues?: (number | null)[];
  stringValues?: (string | null)[];
  arrayValues?: ArrayValue[];
}
interface Field {
  isNull?: boolean;
  booleanValue?: boolean;
  longValue?: number;
  doubleValue?: number;
  stringValue?: string;
  blobValue?: string;
  arrayValue?: ArrayValue;
}
interface ResultOptions {
  readonly decimalAsNumber: boolean;
  readonly longAsString: boolean;
}
interface Converted {
  readonly field: Field;
  /** The value in `formattedRecords`. */
  readonly json: unknown;
}

class DataApiError extends Error {
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return ERROR_STATUS[this.errorName] ?? DEFAULT_ERROR_STATUS;
  }
}

const badRequest = (message: string) => new DataApiError('BadRequestException', message);

/** The real message format: the server's message, detail, hint and position, then the SQLState. */
function databaseError(error: pg.DatabaseError): DataApiError {
  let message = `ERROR: ${error.message}`;
  if (error.detail) message += `\n  Detail: ${error.detail}`;
  if (error.hint) message += `\n  Hint: ${error.hint}`;
  if (error.position) message += `\n  Position: ${error.position}`;
  return new DataApiError('DatabaseErrorException', `${message}; SQLState: ${error.code ?? 'XX000'}`);
}

function toDataApiError(error: unknown): DataApiError {
  if (error instanceof DataApiError) return error;
  if (error instanceof pg.DatabaseError) return databaseError(error);
  const message = error instanceof Error ? error.message : String(error);
  return new DataApiError('InternalServerErrorException', message);
}

class Faults implements FaultInjector {
  private queue: DataApiError[] = [];
  private rules: { pattern: RegExp; afterCalls: number; error: DataApiError; seen: number }[] = [];

  failNext(errorName: string, times = 1, message?: string): void {
    for (let i = 0; i < times; i++) this.queue.push(injected(errorName, message));
  }

  failWhen(pattern: RegExp, options: { afterCalls?: number; errorName?: string; message?: string } = {}): void {
    const error = injected(options.errorName ?? 'DatabaseErrorException', options.message);
    this.rules.push({ pattern, afterCalls: options.afterCalls ?? 0, error, seen: 0 });
  }

  clear(): void {
    this.queue = [];
    this.rules = [];
  }

  /** The fault for the next call of any operation, if one is queued. */
  takeNext(): DataApiError | undefined {
    return this.queue.shift();
  }

  /** The fault for a statement, if a rule has let enough matching calls through; counts the call otherwise. */
  forStatement(sql: string): DataApiError | undefined {
    const matching = this.rules.filter((rule) => {
      rule.pattern.lastIndex = 0; // a global or sticky pattern keeps state between tests
      return rule.pattern.test(sql);
    });
    const firing = matching.find((rule) => rule.seen >= rule.afterCalls);
    if (firing) return firing.error;
    for (const rule of matching) rule.seen++;
    return undefined;
  }
}

function injected(errorName: string, message?: string): DataApiError {
  return new DataApiError(errorName, message ?? DEFAULT_FAULT_MESSAGES[errorName] ?? `${errorName} injected by the Data API emulator`);
}

// ---- Request fields ----

function asObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw badRequest(`${what} must be an object`);
  return value as Record<string, unknown>;
}

function optionalString(input: Record<string, unknown>, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`${key} must be a string`);
  return value;
}

function requiredString(input: Record<string, unknown>, key: string): string {
  const value = optionalString(input, key);
  if (value === undefined || value === '') throw badRequest(`${key} is required`);
  return value;
}

// ---- SQL scanning ----

type SpanKind = 'code' | 'literal' | 'comment';
interface Span {
  readonly kind: SpanKind;
  readonly text: string;
}

/** Splits SQL into code, literals (strings, quoted identifiers, dollar quotes) and comments. */
function sqlSpans(sql: string): Span[] {
  const spans: Span[] = [];
  const dollarTag = /\$(?:[A-Za-z_]\w*)?\$/y;
  let codeStart = 0;
  let i = 0;
  const push = (kind: SpanKind, end: number) => {
    if (i > codeStart) spans.push({ kind: 'code', text: sql.slice(codeStart, i) });
    spans.push({ kind, text: sql.slice(i, end) });
    i = codeStart = end;
  };
  const afterWordChar = () => i > codeStart && /[\w$]/.test(sql[i - 1]!);
  while (i < sql.length) {
    const ch = sql[i]!;
    dollarTag.lastIndex = i;
    const tag = ch === '$' && !afterWordChar() ? dollarTag.exec(sql)?.[0] : undefined;
    if (ch === "'" || ch === '"') {
      // E'...' strings take backslash escapes; a word ending in e (like `type'`) is no prefix.
      const prefix = sql[i - 1];
      const escapes = ch === "'" && (prefix === 'E' || prefix === 'e') && !/[\w$]/.test(sql[i - 2] ?? '');
      push('literal', closingQuote(sql, i, ch, escapes));
    } else if (tag) {
      const close = sql.indexOf(tag, i + tag.length);
      push('literal', close < 0 ? sql.length : close + tag.length);
    } else if (sql.startsWith('--', i)) {
      const newline = sql.indexOf('\n', i);
      push('comment', newline < 0 ? sql.length : newline);
    } else if (sql.startsWith('/*', i)) {
      push('comment', closingComment(sql, i));
    } else {
      i++;
    }
  }
  if (i > codeStart) spans.push({ kind: 'code', text: sql.slice(codeStart, i) });
  return spans;
}

function closingQuote(sql: string, start: number, quote: string, backslashes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    if (backslashes && sql[i] === '\\') i += 2;
    else if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

function closingComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

/** The real service runs one statement per call; a `;` followed by more SQL is a second one. */
function rejectMultipleStatements(sql: string): void {
  let ended = false;
  for (const span of sqlSpans(sql)) {
    if (span.kind === 'comment') continue;
    if (ended && (span.kind === 'literal' || /[^\s;]/.test(span.text))) {
      throw badRequest('Multistatement SQL is not supported: send one statement per call');
    }
    if (span.kind === 'code' && /;[\s;]*\S/.test(span.text)) {
      throw badRequest('Multistatement SQL is not supported: send one statement per call');
    }
    if (span.kind === 'code' && span.text.includes(';')) ended = true;
  }
}

/** Adds `::type` after each `$n` in code, so a parameter takes the type its Field says. */
function addCasts(text: string, casts: readonly (string | undefined)[]): string {
  return sqlSpans(text)
    .map((span) =>
      span.kind !== 'code'
        ? span.text
        : span.text.replace(/(?<![\w$])\$(\d+)/g, (placeholder, n: string) => {
            const cast = casts[Number(n) - 1];
            return cast ? `${placeholder}::${cast}` : placeholder;
          }),
    )
    .join('');
}

// ---- Parameters ----

interface Bound {
  readonly value: unknown;
  readonly cast: string | undefined;
}

function bindField(name: string, parameter: Record<string, unknown>): Bound {
  const value = asObject(parameter.value ?? {}, `parameter ${name} value`);
  const typeHint = optionalString(parameter, 'typeHint');
  if (value.arrayValue !== undefined) throw badRequest('Array parameters are not supported.');
  if (value.isNull === true) return { value: null, cast: undefined };
  if (typeof value.booleanValue === 'boolean') return { value: value.booleanValue, cast: 'boolean' };
  if (typeof value.longValue === 'number') return { value: String(value.longValue), cast: 'int8' };
  if (value.doubleValue !== undefined) return { value: String(value.doubleValue), cast: 'float8' };
  if (typeof value.blobValue === 'string') return { value: Buffer.from(value.blobValue, 'base64'), cast: 'bytea' };
  if (typeof value.stringValue === 'string') {
    if (typeHint === undefined) return { value: value.stringValue, cast: 'text' };
    const type = HINT_TYPE[typeHint];
    if (!type) throw badRequest(`Invalid typeHint ${typeHint} for parameter ${name}`);
    const format = HINT_FORMAT[typeHint];
    if (format && !format.test(value.stringValue)) throw badRequest(`Text '${value.stringValue}' could not be parsed`);
    return { value: value.stringValue, cast: type };
  }
  throw badRequest(`Parameter ${name} has no value`);
}

/** Turns `:name` placeholders into typed positional parameters, as the real service binds them. */
function bindParameters(sql: string, parameters: unknown): { text: string; values: unknown[] } {
  const byName = new Map<string, Record<string, unknown>>();
  if (parameters !== undefined && parameters !== null) {
    if (!Array.isArray(parameters)) throw badRequest('parameters must be a list');
    for (const item of parameters) {
      const parameter = asObject(item, 'parameter');
      byName.set(requiredString(parameter, 'name'), parameter);
    }
  }
  const bound = [...byName].map(([name, parameter]) => [name, bindField(name, parameter)] as const);
  const boundByName = new Map(bound);
  const { text, names } = toPositional(sql);
  const used = names.map((name) => {
    const parameter = boundByName.get(name);
    if (!parameter) throw badRequest(`No value specified for parameter: ${name}`);
    return parameter;
  });
  return {
    text: addCasts(
      text,
      used.map((p) => p.cast),
    ),
    values: used.map((p) => p.value),
  };
}

// ---- Results ----

function resultOptions(input: Record<string, unknown>): ResultOptions {
  const options = input.resultSetOptions === undefined ? {} : asObject(input.resultSetOptions, 'resultSetOptions');
  return {
    decimalAsNumber: options.decimalReturnType === 'DOUBLE_OR_LONG',
    longAsString: options.longReturnType === 'STRING',
  };
}

function convert(oid: number, raw: unknown, options: ResultOptions): Converted {
  if (raw === null || raw === undefined) return { field: { isNull: true }, json: null };
  const text = String(raw);
  const element = ARRAY_ELEMENT_OID.get(oid);
  if (element !== undefined) return convertArray(element, parseTextArray(text), options);
  switch (oid) {
    case OID.bool:
      return { field: { booleanValue: text === 't' }, json: text === 't' };
    case OID.int2:
    case OID.int4:
    case OID.int8:
    case OID.oid:
      return options.longAsString
        ? { field: { stringValue: text }, json: text }
        : { field: { longValue: Number(text) }, json: Number(text) };
    case OID.float4:
    case OID.float8:
      return { field: { doubleValue: Number(text) }, json: Number(text) };
    case OID.numeric:
      if (!options.decimalAsNumber) return { field: { stringValue: text }, json: text };
      return /^-?\d+$/.test(text)
        ? { field: { longValue: Number(text) }, json: Number(text) }
        : { field: { doubleValue: Number(text) }, json: Number(text) };
    case OID.bytea: {
      const base64 = Buffer.from(text.replace(/^\\x/, ''), 'hex').toString('base64');
      return { field: { blobValue: base64 }, json: base64 };
    }
    case OID.timestamptz: {
      const utc = text.replace(/\+00$/, ''); // sessions run in UTC; the real service shows no offset
      return { field: { stringValue: utc }, json: utc };
    }
    default:
      return { field: { stringValue: text }, json: text };
  }
}

function convertArray(elementOid: number, items: unknown[], options: ResultOptions): Converted {
  if (items.some(Array.isArray)) {
    const nested = items.map((item) => convertArray(elementOid, Array.isArray(item) ? item : [], options));
    return {
      field: { arrayValue: { arrayValues: nested.map((n) => n.field.arrayValue ?? {}) } },
      json: nested.map((n) => n.json),
    };
  }
  const converted = items.map((item) => convert(elementOid, item, options));
  const json = converted.map((c) => c.json);
  const scalars = converted.map((c) => (c.field.isNull ? null : Object.values(c.field)[0]));
  const first = converted.find((c) => !c.field.isNull)?.field ?? {};
  const key: keyof ArrayValue =
    'booleanValue' in first
      ? 'booleanValues'
      : 'longValue' in first
        ? 'longValues'
        : 'doubleValue' in first
          ? 'doubleValues'
          : 'stringValues';
  return { field: { arrayValue: { [key]: scalars } }, json };
}

function columnMetadata(fields: readonly pg.FieldDef[], typeNames: ReadonlyMap<number, string>): JsonObject[] {
  return fields.map((field) => {
    const oid = field.dataTypeID;
    const isArray = ARRAY_ELEMENT_OID.has(oid);
    const numericTypmod = oid === OID.numeric && field.dataTypeModifier >= 0 ? field.dataTypeModifier - VARHDRSZ : -1;
    return {
      name: field.name,
      label: field.name,
      type: isArray ? JDBC_ARRAY : (JDBC_TYPE.get(oid) ?? JDBC_OTHER),
      typeName: typeNames.get(oid) ?? String(oid),
      schemaName: '',
      tableName: '',
      isAutoIncrement: false,
      isSigned: SIGNED_OIDS.has(oid),
      isCurrency: false,
      isCaseSensitive: !SIGNED_OIDS.has(oid) && oid !== OID.bool,
      nullable: NULLABLE_UNKNOWN,
      precision: numericTypmod >= 0 ? numericTypmod >> NUMERIC_PRECISION_SHIFT : 0,
      scale: numericTypmod >= 0 ? numericTypmod & NUMERIC_SCALE_MASK : 0,
      arrayBaseColumnType: isArray ? (JDBC_TYPE.get(ARRAY_ELEMENT_OID.get(oid)!) ?? JDBC_OTHER) : 0,
    };
  });
}

async function lookUpTypeNames(client: pg.ClientBase, fields: readonly pg.FieldDef[]): Promise<Map<number, string>> {
  const oids = [...new Set(fields.map((f) => f.dataTypeID))];
  const { rows } = await client.query<{ oid: string; typname: string }>(
    'SELECT oid::text AS oid, typname::text AS typname FROM pg_type WHERE oid = ANY($1::oid[])',
    [oids],
  );
  return new Map(rows.map((r) => [Number(r.oid), r.typname]));
}

interface StatementOutcome {
  readonly result: pg.QueryArrayResult<unknown[]>;
  readonly typeNames: Map<number, string> | undefined;
}

/** The response body: the 1 MiB response limit is checked first, then the 64 KB row limit. */
function formatOutcome(outcome: StatementOutcome, input: Record<string, unknown>, measure: (body: string) => string): string {
  const { result } = outcome;
  const output: JsonObject = {
    numberOfRecordsUpdated: result.command === 'SELECT' ? 0 : (result.rowCount ?? 0),
  };
  if (input.includeResultMetadata === true && outcome.typeNames) {
    output.columnMetadata = columnMetadata(result.fields, outcome.typeNames);
  }
  if (result.fields.length === 0) return measure(JSON.stringify(output));
  const options = resultOptions(input);
  const rows = result.rows.map((row) => result.fields.map((field, i) => convert(field.dataTypeID, row[i], options)));
  let serializedRows: string[];
  if (input.formatRecordsAs === 'JSON') {
    const objects = rows.map((row) => Object.fromEntries(row.map((value, i) => [result.fields[i]!.name, value.json])));
    serializedRows = objects.map((object) => JSON.stringify(object));
    output.formattedRecords = `[${serializedRows.join(',')}]`;
  } else {
    const records = rows.map((row) => row.map((value) => value.field));
    serializedRows = records.map((record) => JSON.stringify(record));
    output.records = records;
  }
  const body = measure(JSON.stringify(output));
  // The real limit (64 KB per row) is documented; this message is the emulator's own.
  if (serializedRows.some((row) => Buffer.byteLength(row) > MAX_ROW_BYTES)) {
    throw badRequest('The result set contains a row larger than the allowed row size limit of 64 KB');
  }
  return body;
}

// ---- The emulator ----

interface Transaction {
  readonly client: pg.PoolClient;
  readonly onError: (error: Error) => void;
  broken: Error | undefined;
}

type Operation = (input: Record<string, unknown>) => Promise<JsonObject | string>;

class Emulator implements DataApiEmulator {
  readonly faults = new Faults();
  readonly stats = { executeCalls: 0, maxRequestBytes: 0, maxResponseBytes: 0 };
  private readonly pool: pg.Pool;
  private readonly transactions = new Map<string, Transaction>();
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private port = 0;

  constructor(private readonly options: DataApiEmulatorOptions) {
    this.pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: POOL_SIZE,
      types: RAW_TEXT_TYPES,
      options: SESSION_OPTIONS,
    });
    this.pool.on('error', () => undefined); // an idle connection dropped by the server is simply replaced
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
    for (const transaction of this.transactions.values()) {
      await transaction.client.query('ROLLBACK').catch(() => undefined);
      transaction.client.off('error', transaction.onError);
      transaction.client.release(true);
    }
    this.transactions.clear();
    await this.pool.end();
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/Execute') this.stats.executeCalls++;
    try {
      const body = await this.readBody(req);
      const operation = this.operation(req.method, path);
      const fault = this.faults.takeNext();
      if (fault) throw fault;
      const input = asObject(parseJson(body), 'The request body');
      const output = await operation(input);
      this.send(res, typeof output === 'string' ? output : this.measure(JSON.stringify(output)));
    } catch (error) {
      this.sendError(res, toDataApiError(error));
    }
  }

  private operation(method: string | undefined, path: string | undefined): Operation {
    const operations: Record<string, Operation> = {
      '/Execute': (input) => this.executeStatement(input),
      '/BatchExecute': (input) => this.batchExecuteStatement(input),
      '/BeginTransaction': (input) => this.beginTransaction(input),
      '/CommitTransaction': (input) => this.endTransaction(input, 'COMMIT'),
      '/RollbackTransaction': (input) => this.endTransaction(input, 'ROLLBACK'),
    };
    const operation = method === 'POST' && path ? operations[path] : undefined;
    if (!operation) throw new DataApiError('UnknownOperationException', `Unknown operation ${method} ${path}`);
    return operation;
  }

  /** Reads the whole body (so the client sees the answer), keeping it only within the request limit. */
  private async readBody(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    let bytes = 0;
    for await (const chunk of req) {
      bytes += (chunk as Buffer).length;
      if (bytes <= MAX_REQUEST_BYTES) chunks.push(chunk as Buffer);
    }
    this.stats.maxRequestBytes = Math.max(this.stats.maxRequestBytes, bytes);
    if (bytes > MAX_REQUEST_BYTES) throw badRequest('Request size exceeded');
    return Buffer.concat(chunks);
  }

  /** Records a response body's size and enforces the response limit. */
  private measure(body: string): string {
    const bytes = Buffer.byteLength(body);
    this.stats.maxResponseBytes = Math.max(this.stats.maxResponseBytes, bytes);
    if (bytes > MAX_RESPONSE_BYTES) throw badRequest(RESPONSE_TOO_LARGE);
    return body;
  }

  private send(res: ServerResponse, body: string): void {
    res.writeHead(HTTP_OK, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(body);
  }

  private sendError(res: ServerResponse, error: DataApiError): void {
    const body = JSON.stringify({ message: error.message });
    res.writeHead(error.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': error.errorName,
    });
    res.end(body);
  }

  private checkArns(input: Record<string, unknown>): void {
    const resourceArn = requiredString(input, 'resourceArn');
    if (this.options.resourceArn && resourceArn !== this.options.resourceArn) {
      throw badRequest(`Invalid cluster arn: ${resourceArn}`);
    }
    const secretArn = requiredString(input, 'secretArn');
    if (this.options.secretArn && secretArn !== this.options.secretArn) {
      throw badRequest(`Invalid secret arn: ${secretArn}`);
    }
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code === '3D000') {
        throw new DataApiError('DatabaseNotFoundException', error.message);
      }
      throw error;
    }
  }

  /** Runs work on a pooled connection in autocommit, then resets it: there is no session between calls. */
  private async autocommit<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let reusable = true;
    try {
      return await work(client);
    } finally {
      // DISCARD ALL drops settings, temporary tables and session advisory locks; it fails inside
      // a transaction block (a stray BEGIN), and then the connection is closed instead.
      await client.query('DISCARD ALL').catch(() => (reusable = false));
      client.release(!reusable);
    }
  }

  private transaction(input: Record<string, unknown>): Transaction | undefined {
    const id = optionalString(input, 'transactionId');
    if (id === undefined) return undefined;
    const transaction = this.transactions.get(id);
    if (!transaction) throw new DataApiError('NotFoundException', `Transaction ${id} is not found`);
    if (transaction.broken) {
      this.transactions.delete(id);
      transaction.client.off('error', transaction.onError);
      transaction.client.release(true);
      throw new DataApiError('NotFoundException', `Transaction ${id} is not found: ${transaction.broken.message}`);
    }
    return transaction;
  }

  private async executeStatement(input: Record<string, unknown>): Promise<string> {
    this.checkArns(input);
    const sql = requiredString(input, 'sql');
    rejectMultipleStatements(sql);
    const { text, values } = bindParameters(sql, input.parameters);
    const transaction = this.transaction(input);
    await this.injectStatementFault(sql, transaction);
    const run = async (client: pg.ClientBase): Promise<StatementOutcome> => {
      const query: pg.QueryArrayConfig & { queryMode: 'extended' } = { text, values, rowMode: 'array', queryMode: 'extended' };
      const result = await client.query(query);
      const typeNames = input.includeResultMetadata === true ? await lookUpTypeNames(client, result.fields) : undefined;
      return { result, typeNames };
    };
    const outcome = transaction ? await run(transaction.client) : await this.autocommit(run);
    return formatOutcome(outcome, input, (body) => this.measure(body));
  }

  private async batchExecuteStatement(input: Record<string, unknown>): Promise<JsonObject> {
    this.checkArns(input);
    const sql = requiredString(input, 'sql');
    rejectMultipleStatements(sql);
    const sets = input.parameterSets ?? [];
    if (!Array.isArray(sets)) throw badRequest('parameterSets must be a list');
    const statements = (sets.length === 0 ? [[]] : sets).map((set: unknown) => bindParameters(sql, set));
    const transaction = this.transaction(input);
    await this.injectStatementFault(sql, transaction);
    const options = resultOptions(input);
    const run = async (client: pg.ClientBase): Promise<JsonObject[]> => {
      const updateResults: JsonObject[] = [];
      for (const { text, values } of statements) {
        const query: pg.QueryArrayConfig & { queryMode: 'extended' } = { text, values, rowMode: 'array', queryMode: 'extended' };
        const result = await client.query(query);
        const first = result.rows[0];
        const generatedFields = first ? result.fields.map((f, i) => convert(f.dataTypeID, first[i], options).field) : [];
        updateResults.push({ generatedFields });
      }
      return updateResults;
    };
    // Outside a transaction the batch is made atomic here; do not rely on that against the real service.
    const updateResults = transaction
      ? await run(transaction.client)
      : await this.autocommit(async (client) => {
          await client.query('BEGIN');
          try {
            const results = await run(client);
            await client.query('COMMIT');
            return results;
          } catch (error) {
            await client.query('ROLLBACK').catch(() => undefined);
            throw error;
          }
        });
    return { updateResults };
  }

  /** A matching failWhen rule fails the call; inside a transaction it also aborts it, as a real SQL error does. */
  private async injectStatementFault(sql: string, transaction: Transaction | undefined): Promise<void> {
    const fault = this.faults.forStatement(sql);
    if (!fault) return;
    if (transaction && fault.errorName === 'DatabaseErrorException') {
      await transaction.client.query(`DO $$ BEGIN RAISE EXCEPTION 'fault injected'; END $$`).catch(() => undefined);
    }
    throw fault;
  }

  private async beginTransaction(input: Record<string, unknown>): Promise<JsonObject> {
    this.checkArns(input);
    const client = await this.connect();
    try {
      await client.query('BEGIN');
    } catch (error) {
      client.release(true);
      throw error;
    }
    const transactionId = randomBytes(TRANSACTION_ID_BYTES).toString('base64');
    const transaction: Transaction = { client, broken: undefined, onError: (error) => (transaction.broken = error) };
    client.on('error', transaction.onError);
    this.transactions.set(transactionId, transaction);
    return { transactionId };
  }

  private async endTransaction(input: Record<string, unknown>, command: 'COMMIT' | 'ROLLBACK'): Promise<JsonObject> {
    this.checkArns(input);
    const transactionId = requiredString(input, 'transactionId');
    const transaction = this.transaction(input);
    if (!transaction) throw new DataApiError('NotFoundException', `Transaction ${transactionId} is not found`);
    this.transactions.delete(transactionId);
    let reusable = true;
    try {
      const result = await transaction.client.query(command);
      // PostgreSQL answers COMMIT of a failed transaction with ROLLBACK; say so instead of "Committed".
      if (command === 'COMMIT' && result.command === 'ROLLBACK') {
        throw new DataApiError(
          'DatabaseErrorException',
          'ERROR: the transaction was aborted by an earlier error and has been rolled back; SQLState: 25P02',
        );
      }
    } catch (error) {
      if (!(error instanceof DataApiError)) reusable = false;
      throw error;
    } finally {
      await transaction.client.query('DISCARD ALL').catch(() => (reusable = false));
      transaction.client.off('error', transaction.onError);
      transaction.client.release(!reusable);
    }
    return { transactionStatus: command === 'COMMIT' ? 'Transaction Committed' : 'Rollback Complete' };
  }
}

function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw badRequest('The request body is not valid JSON');
  }
}

/** Starts the emulator on a free local port, over the PostgreSQL server at `databaseUrl`. */
export async function startDataApiEmulator(options: DataApiEmulatorOptions): Promise<DataApiEmulator> {
  const emulator = new Emulator(options);
  await emulator.listen();
  return emulator;
}
