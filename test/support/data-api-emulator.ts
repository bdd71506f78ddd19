// A small RDS Data API emulator for tests: speaks restJson1 to the unmodified
// @aws-sdk/client-rds-data, runs each statement on a real PostgreSQL through `pg`, enforces the real
// service's rules (RULES below, each with its source) and lets a test inject the faults the real service produces.

import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import { toPositional } from '../../shared/sql/named-parameters.ts';

// ---- The rules the emulator enforces, and where each comes from ----

const DOCS = {
  limitations:
    '"Limitations for the Amazon RDS Data API" (Aurora User Guide), https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.limitations.html',
  differences:
    '"Comparing Amazon RDS Data API behaviors for Aurora Serverless v2 and provisioned clusters with Aurora Serverless v1 clusters" (Aurora User Guide), https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api.differences.html',
  operations:
    '"Amazon RDS Data API operations reference" (Aurora User Guide), https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-operations.html',
  timeouts:
    '"Controlling Data API timeout behavior" (Aurora User Guide), https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/data-api-timeouts.html',
  executeStatement:
    '"ExecuteStatement" (RDS Data API Reference), https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_ExecuteStatement.html',
  batchExecuteStatement:
    '"BatchExecuteStatement" (RDS Data API Reference), https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BatchExecuteStatement.html',
  beginTransaction:
    '"BeginTransaction" (RDS Data API Reference), https://docs.aws.amazon.com/rdsdataservice/latest/APIReference/API_BeginTransaction.html',
} as const;
const UNDOCUMENTED = 'undocumented: the product avoids the construct, the emulator refuses it';

export interface EmulatorRule {
  /** What the emulator does, and the error a call gets. */
  readonly rule: string;
  /** The AWS page it comes from (title and URL), or why there is none. */
  readonly source: string;
}

/** Every rule the emulator enforces, with its source. */
export const RULES: readonly EmulatorRule[] = Object.freeze(
  [
    {
      rule: 'A request body over 4 MiB is refused: BadRequestException "Request size exceeded".',
      source: DOCS.batchExecuteStatement,
    },
    {
      rule: 'A response over 1 MiB fails the call: BadRequestException "Database returned more than the allowed response size limit".',
      source: DOCS.limitations,
    },
    {
      rule: "A result row over 64 KB fails the call: BadRequestException (the message is the emulator's own).",
      source: DOCS.limitations,
    },
    {
      rule: 'One statement per call: more SQL after a `;` fails with ValidationException "Multistatements aren\'t supported.".',
      source: `${DOCS.differences}, "Multistatement support"`,
    },
    {
      rule: 'The `schema` parameter fails with ValidationException "The schema parameter isn\'t supported".',
      source: `${DOCS.differences}, "Schema parameter behavior"`,
    },
    {
      rule: 'Array parameters (`arrayValue`) fail with BadRequestException "Array parameters are not supported.".',
      source:
        "undocumented (the Field reference lists arrayValue); the service's answer as quoted in https://github.com/boto/boto3/issues/2272 and https://github.com/aws/aws-sdk/issues/9",
    },
    {
      rule: 'A DATE, TIME or TIMESTAMP typeHint value must be YYYY-MM-DD, HH:MM:SS[.FFF] or YYYY-MM-DD HH:MM:SS[.FFF]: BadRequestException otherwise.',
      source: `${DOCS.operations} (typeHint)`,
    },
    {
      rule: 'Only result columns of the documented Aurora PostgreSQL types come back: BOOL, BYTEA, DATE, CIDR, DECIMAL/NUMERIC, ENUM, FLOAT8, INET, INT2/INT4/INT8, JSON/JSONB, REAL, TEXT, CHAR(N), VARCHAR, TIME, TIMESTAMP, UUID, VECTOR; arrays of BOOL, DATE, NUMERIC, FLOAT8, INT2/INT4/INT8, JSON, REAL, TEXT, CHAR(N), VARCHAR, TIME, TIMESTAMP, UUID. Any other (void, name, regtype, "char", oid, interval, timestamptz, bytea[], jsonb[], an enum array ...) fails with UnsupportedResultException "The result contains the unsupported data type <typname>.". Stricter than the page on three points: TIMESTAMPTZ appears only in a note ("always returns ... TIMESTAMPTZ in UTC"), not in the list; NAME and NAME[] are listed but design.md records the service refusing `name`; BIT[] is listed without BIT. Cast such columns to text.',
      source: `${DOCS.operations} (type lists); ${DOCS.differences}, "ExecuteStatement behavior" (the error and its message)`,
    },
    {
      rule: 'A multidimensional array value fails with UnsupportedResultException.',
      source: `${DOCS.differences}, "ExecuteStatement behavior"`,
    },
    {
      rule: 'An ExecuteStatement or BatchExecuteStatement call fails with StatementTimeoutException after 45 s (option callTimeoutMs). With continueAfterTimeout false (the default) the statement is cancelled, which inside a transaction aborts the transaction; with continueAfterTimeout true it runs to completion though the call has failed.',
      source: `${DOCS.timeouts}; ${DOCS.executeStatement} (continueAfterTimeout)`,
    },
    {
      rule: 'A transaction that sees no call with its id for 3 minutes (option transactionIdleTimeoutMs) is rolled back; later calls with its id fail with NotFoundException "Transaction <id> is not found" (the error name and message are the emulator\'s).',
      source: DOCS.beginTransaction,
    },
    {
      rule: 'A call naming a transaction that is still running a statement fails with DatabaseErrorException "Transaction is still running a query".',
      source: `${DOCS.differences}, "Concurrent requests for the same transaction ID"`,
    },
    {
      rule: 'BatchExecuteStatement returns empty generatedFields (Aurora PostgreSQL).',
      source: `${DOCS.differences}, "BatchExecuteStatement behavior"`,
    },
    {
      rule: "SQL with a `--` or `/* */` comment outside literals, quoted identifiers and dollar quotes fails with BadRequestException (how the service's :name scanner treats comments is undocumented; such scanners read an apostrophe in a comment as a string literal and leave the next parameter unbound).",
      source: UNDOCUMENTED,
    },
    {
      rule: 'Every :name placeholder must appear directly as CAST(:name AS <type>): anything else fails with BadRequestException "parameter :name has no explicit type: write CAST(:name AS <type>)" (how the service types an untyped parameter, NULLs included, is undocumented).',
      source: UNDOCUMENTED,
    },
    {
      rule: 'With resolveSecret, each call connects as the user of its secretArn; an unknown secret fails with BadRequestException "Error fetching secret <arn> : Secrets Manager can\'t find the specified secret." and a failed login with BadRequestException carrying PostgreSQL\'s message and SQLState.',
      source: `${DOCS.operations} (secretArn: "The name or ARN of the secret that enables access to the DB cluster"); the messages are undocumented, the first as reproduced by koxudaxi/local-data-api (https://github.com/koxudaxi/local-data-api/issues/217)`,
    },
    {
      rule: 'No session between calls: outside a transaction each call runs on any pooled connection, reset (DISCARD ALL) afterwards, so SET, temporary tables and session locks do not survive.',
      source: 'undocumented: design.md ("there is no session"); the emulator makes it so',
    },
  ].map((rule) => Object.freeze(rule)),
);

// ---- Public interface ----

export interface DataApiEmulator {
  /** `http://127.0.0.1:<port>`: give it to the SDK as `endpoint` or `AWS_ENDPOINT_URL_RDS_DATA`. */
  readonly endpoint: string;
  readonly faults: FaultInjector;
  /**
   * For assertions and benchmarks. `executeCalls` counts every ExecuteStatement request received
   * (SDK retries and failed calls included); the byte maxima include requests and responses
   * rejected for their size; `requestBytes`/`responseBytes` total every body received and sent
   * (errors included); `slowestCallMs` is the longest a call's operation ran, latency excluded.
   */
  readonly stats: EmulatorStats;
  close(): Promise<void>;
}

export interface EmulatorStats {
  executeCalls: number;
  maxRequestBytes: number;
  maxResponseBytes: number;
  requestBytes: number;
  responseBytes: number;
  slowestCallMs: number;
}

export interface FaultInjector {
  /** The next `times` calls (any operation) fail with this error name, e.g. 'DatabaseResumingException' (HTTP 400), 'ThrottlingException' (HTTP 429), 'ServiceUnavailableError' (503). */
  failNext(errorName: string, times?: number, message?: string): void;
  /** Execute calls whose SQL matches `pattern` fail (DatabaseErrorException-like, or the given name) after `afterCalls` successful matching calls. */
  failWhen(pattern: RegExp, options?: { afterCalls?: number; errorName?: string; message?: string }): void;
  clear(): void;
}

/** The database user a secret holds. */
export interface SecretCredentials {
  readonly username: string;
  readonly password: string;
}

export interface DataApiEmulatorOptions {
  /**
   * The PostgreSQL database every call runs in. A request's `database` is accepted and ignored (the
   * real service would switch to it), so tests may keep a production-like DB_NAME.
   */
  readonly databaseUrl: string;
  /** When set, requests naming another cluster ARN fail with BadRequestException. */
  readonly resourceArn?: string;
  /** When set (and resolveSecret is not), requests naming another secret ARN fail with BadRequestException. */
  readonly secretArn?: string;
  /**
   * The credentials of a secret, or undefined for a secret that does not exist. When given, each call
   * connects as its secret's user (host, port and database from databaseUrl, a pool per secret and
   * credentials) and the secretArn option is not consulted; without it every call uses databaseUrl's user.
   */
  readonly resolveSecret?: (secretArn: string) => Promise<SecretCredentials | undefined>;
  /** How long an ExecuteStatement or BatchExecuteStatement call may run. Default: 45 000 ms, the service's. */
  readonly callTimeoutMs?: number;
  /** How long a transaction may see no call before it is rolled back. Default: 180 000 ms, the service's. */
  readonly transactionIdleTimeoutMs?: number;
  /**
   * Added to every call before it answers: what a network between the function and the service
   * costs (benchmarks use 50 ms). Default 0.
   */
  readonly latencyMs?: number;
}

// ---- Limits and errors ----

const MIB = 1024 * 1024;
const MAX_REQUEST_BYTES = 4 * MIB;
const MAX_RESPONSE_BYTES = 1 * MIB;
const MAX_ROW_BYTES = 64 * 1024;
/** How long an idle keep-alive connection stays open (see listen). */
const KEEP_ALIVE_MS = 65_000;
const DEFAULT_CALL_TIMEOUT_MS = 45_000;
const DEFAULT_TRANSACTION_IDLE_TIMEOUT_MS = 3 * 60_000;
const RESPONSE_TOO_LARGE = 'Database returned more than the allowed response size limit';
const STATEMENT_TIMED_OUT = 'Request timed out';
// Our own choices.
const POOL_SIZE = 20;
const TRANSACTION_ID_BYTES = 48;
const HTTP_OK = 200;
/** After cancelling a timed-out statement, how long to wait for it to stop before answering anyway. */
const CANCEL_GRACE_MS = 5_000;
/** SQLSTATEs of a refused login: invalid_password, invalid_authorization_specification. */
const LOGIN_FAILED = new Set(['28P01', '28000']);

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
  SecretsErrorException: 400,
  UnsupportedResultException: 400,
  ValidationException: 400,
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
  StatementTimeoutException: STATEMENT_TIMED_OUT,
  DatabaseErrorException: 'ERROR: fault injected by the Data API emulator; SQLState: XX000',
};

// ---- Result types ----

// The scalar types the Data API documents for Aurora PostgreSQL ("Amazon RDS Data API operations
// reference"), by OID; enums (pg_type.typtype 'e') and `vector` (an extension's, so no fixed OID) too.
const DOCUMENTED_SCALARS: ReadonlyMap<number, string> = new Map([
  [16, 'bool'],
  [17, 'bytea'],
  [20, 'int8'],
  [21, 'int2'],
  [23, 'int4'],
  [25, 'text'],
  [114, 'json'],
  [650, 'cidr'],
  [700, 'float4'],
  [701, 'float8'],
  [869, 'inet'],
  [1042, 'bpchar'],
  [1043, 'varchar'],
  [1082, 'date'],
  [1083, 'time'],
  [1114, 'timestamp'],
  [1700, 'numeric'],
  [2950, 'uuid'],
  [3802, 'jsonb'],
]);
const ENUM_TYPTYPE = 'e';
const VECTOR_TYPNAME = 'vector';
// The array types it documents: array type OID → element type OID.
const DOCUMENTED_ARRAYS: ReadonlyMap<number, number> = new Map([
  [1000, 16],
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
  [1183, 1083],
  [1115, 1114],
  [199, 114],
]);

// PostgreSQL type OIDs the emulator converts specially; everything else comes back as stringValue.
const OID = {
  bool: 16,
  bytea: 17,
  int8: 20,
  int2: 21,
  int4: 23,
  float4: 700,
  float8: 701,
  numeric: 1700,
} as const;
const TEXT_ARRAY_OID = 1009;
/** pg's parser for text[]: splits any array's text output into (nested) element strings and nulls. */
const parseTextArray = (pg.types.getTypeParser as (oid: number) => (text: string) => unknown[])(TEXT_ARRAY_OID);
// java.sql.Types codes, as the real service reports them in columnMetadata.type.
const JDBC_TYPE: ReadonlyMap<number, number> = new Map([
  [16, -7],
  [17, -2],
  [20, -5],
  [21, 5],
  [23, 4],
  [700, 7],
  [701, 8],
  [1700, 2],
  [25, 12],
  [1043, 12],
  [1042, 1],
  [1082, 91],
  [1083, 92],
  [1114, 93],
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
/** The session time zone of every emulator connection, as on Aurora. */
const SESSION_OPTIONS = '-c TimeZone=UTC';

type JsonObject = Record<string, unknown>;

interface ArrayValue {
  booleanValues?: (boolean | null)[];
  longValues?: (number | null)[];
  doubleValues?: (number | null)[];
  stringValues?: (string | null)[];
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
    /** Members of the error shape besides the message, e.g. StatementTimeoutException's dbConnectionId. */
    readonly members: JsonObject = {},
  ) {
    super(message);
  }
  get status(): number {
    return ERROR_STATUS[this.errorName] ?? DEFAULT_ERROR_STATUS;
  }
}

const badRequest = (message: string) => new DataApiError('BadRequestException', message);
const timedOut = (pid: number | undefined) =>
  new DataApiError('StatementTimeoutException', STATEMENT_TIMED_OUT, pid === undefined ? {} : { dbConnectionId: pid });
const unsupportedType = (typeName: string) =>
  new DataApiError('UnsupportedResultException', `The result contains the unsupported data type ${typeName}.`);

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

const COMMENTS_REFUSED =
  "SQL comments are not accepted: how the Data API's :name scanner treats comments is undocumented " +
  '(scanners of this kind read an apostrophe inside a comment as a string literal and leave the next parameter unbound). ' +
  'Keep the explanation in TypeScript next to the SQL.';

function rejectComments(sql: string): void {
  if (sqlSpans(sql).some((span) => span.kind === 'comment')) throw badRequest(COMMENTS_REFUSED);
}

/** The real service runs one statement per call; a `;` followed by more SQL is a second one. */
function rejectMultipleStatements(sql: string): void {
  const refused = new DataApiError('ValidationException', "Multistatements aren't supported.");
  let ended = false;
  for (const span of sqlSpans(sql)) {
    if (span.kind === 'comment') continue;
    if (ended && (span.kind === 'literal' || /[^\s;]/.test(span.text))) throw refused;
    if (span.kind === 'code' && /;[\s;]*\S/.test(span.text)) throw refused;
    if (span.kind === 'code' && span.text.includes(';')) ended = true;
  }
}

interface Placeholder {
  readonly name: string;
  readonly start: number;
  readonly end: number;
}

/**
 * The `:name` placeholders exactly where toPositional (shared/sql/named-parameters.ts), which binds
 * them, finds them: the same skipping of comments, quotes and `::` casts, with offsets kept.
 */
function placeholders(sql: string): Placeholder[] {
  const found: Placeholder[] = [];
  let i = 0;
  while (i < sql.length) {
    const ch = sql[i]!;
    if (sql.startsWith('--', i)) {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (sql.startsWith('/*', i)) {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? sql.length : end + 2;
    } else if (ch === "'" || ch === '"') {
      i = closingQuote(sql, i, ch, false);
    } else if (sql.startsWith('::', i)) {
      i += 2;
    } else if (ch === ':' && /[A-Za-z_]/.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < sql.length && /\w/.test(sql[j]!)) j++;
      found.push({ name: sql.slice(i + 1, j), start: i, end: j });
      i = j;
    } else {
      i++;
    }
  }
  return found;
}

const CAST_WORD = 'CAST';
/** What must follow a placeholder: `AS <type>)`, the type possibly several words, schema-qualified, with modifiers and array brackets. */
const CAST_CLOSE =
  /\s+AS\s+(?:"[^"]+"|[A-Za-z_][\w$]*)(?:\s*\.\s*(?:"[^"]+"|[A-Za-z_][\w$]*))?(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\)|\s+[A-Za-z_][\w$]*)*(?:\s*\[\s*\d*\s*\])*\s*\)/iy;

/** Whether `CAST (` (any case and spacing) ends right before offset `at`. */
function castOpensAt(sql: string, at: number): boolean {
  let i = at - 1;
  while (i >= 0 && /\s/.test(sql[i]!)) i--;
  if (sql[i] !== '(') return false;
  i--;
  while (i >= 0 && /\s/.test(sql[i]!)) i--;
  const wordStart = i - CAST_WORD.length + 1;
  if (wordStart < 0 || sql.slice(wordStart, i + 1).toUpperCase() !== CAST_WORD) return false;
  return wordStart === 0 || !/[\w$]/.test(sql[wordStart - 1]!);
}

/** Every placeholder must be typed in the SQL itself, as `CAST(:name AS <type>)`. */
function rejectUntypedPlaceholders(sql: string, found: readonly Placeholder[]): void {
  for (const { name, start, end } of found) {
    CAST_CLOSE.lastIndex = end;
    if (!castOpensAt(sql, start) || !CAST_CLOSE.test(sql)) {
      throw badRequest(
        `parameter :${name} has no explicit type: write CAST(:${name} AS <type>) ` +
          '(how the Data API types an untyped parameter, a NULL or a string where a number is expected, is undocumented)',
      );
    }
  }
}

/** The SQL rules every ExecuteStatement and BatchExecuteStatement call passes before it runs. */
function checkSql(sql: string): void {
  rejectComments(sql);
  rejectMultipleStatements(sql);
  rejectUntypedPlaceholders(sql, placeholders(sql));
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
  const checked = [...new Set(placeholders(sql).map((p) => p.name))];
  if (checked.join(',') !== names.join(',')) {
    // The typed-parameter rule must see the placeholders toPositional binds; keep placeholders() in step with it.
    throw new DataApiError(
      'InternalServerErrorException',
      `the emulator's placeholder scan (${checked}) disagrees with toPositional (${names})`,
    );
  }
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

interface TypeInfo {
  readonly name: string;
  readonly documented: boolean;
}

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
  const element = DOCUMENTED_ARRAYS.get(oid);
  if (element !== undefined) return convertArray(element, parseTextArray(text), options);
  switch (oid) {
    case OID.bool:
      return { field: { booleanValue: text === 't' }, json: text === 't' };
    case OID.int2:
    case OID.int4:
    case OID.int8:
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
    default:
      return { field: { stringValue: text }, json: text };
  }
}

function convertArray(elementOid: number, items: unknown[], options: ResultOptions): Converted {
  if (items.some(Array.isArray)) {
    throw new DataApiError('UnsupportedResultException', 'The result contains a multidimensional array, which is not supported.');
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

function columnMetadata(fields: readonly pg.FieldDef[], types: ReadonlyMap<number, TypeInfo>): JsonObject[] {
  return fields.map((field) => {
    const oid = field.dataTypeID;
    const element = DOCUMENTED_ARRAYS.get(oid);
    const numericTypmod = oid === OID.numeric && field.dataTypeModifier >= 0 ? field.dataTypeModifier - VARHDRSZ : -1;
    return {
      name: field.name,
      label: field.name,
      type: element !== undefined ? JDBC_ARRAY : (JDBC_TYPE.get(oid) ?? JDBC_OTHER),
      typeName: types.get(oid)?.name ?? String(oid),
      schemaName: '',
      tableName: '',
      isAutoIncrement: false,
      isSigned: SIGNED_OIDS.has(oid),
      isCurrency: false,
      isCaseSensitive: !SIGNED_OIDS.has(oid) && oid !== OID.bool,
      nullable: NULLABLE_UNKNOWN,
      precision: numericTypmod >= 0 ? numericTypmod >> NUMERIC_PRECISION_SHIFT : 0,
      scale: numericTypmod >= 0 ? numericTypmod & NUMERIC_SCALE_MASK : 0,
      arrayBaseColumnType: element !== undefined ? (JDBC_TYPE.get(element) ?? JDBC_OTHER) : 0,
    };
  });
}

/** The documented types by OID, before any lookup. */
function staticTypeInfo(oid: number): TypeInfo | undefined {
  const scalar = DOCUMENTED_SCALARS.get(oid);
  if (scalar !== undefined) return { name: scalar, documented: true };
  const element = DOCUMENTED_ARRAYS.get(oid);
  const elementName = element === undefined ? undefined : DOCUMENTED_SCALARS.get(element);
  return elementName === undefined ? undefined : { name: `_${elementName}`, documented: true };
}

interface StatementOutcome {
  readonly result: pg.QueryArrayResult<unknown[]>;
  readonly types: ReadonlyMap<number, TypeInfo>;
}

/** The response body: the 1 MiB response limit is checked first, then the 64 KB row limit. */
function formatOutcome(outcome: StatementOutcome, input: Record<string, unknown>, measure: (body: string) => string): string {
  const { result } = outcome;
  const output: JsonObject = {
    numberOfRecordsUpdated: result.command === 'SELECT' ? 0 : (result.rowCount ?? 0),
  };
  if (input.includeResultMetadata === true) output.columnMetadata = columnMetadata(result.fields, outcome.types);
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

/** A pool of connections as one database user, and how to open one more (to cancel a statement). */
interface Database {
  readonly pool: pg.Pool;
  readonly connectionString: string;
}

function openDatabase(connectionString: string): Database {
  const pool = new pg.Pool({ connectionString, max: POOL_SIZE, types: RAW_TEXT_TYPES, options: SESSION_OPTIONS });
  pool.on('error', () => undefined); // an idle connection dropped by the server is simply replaced
  return { pool, connectionString };
}

function withCredentials(databaseUrl: string, credentials: SecretCredentials): string {
  const url = new URL(databaseUrl);
  url.username = encodeURIComponent(credentials.username);
  url.password = encodeURIComponent(credentials.password);
  return url.toString();
}

interface Transaction {
  readonly id: string;
  readonly client: pg.PoolClient;
  readonly database: Database;
  readonly pid: number;
  readonly onError: (error: Error) => void;
  broken: Error | undefined;
  /** A call with this transaction's id is running a statement (or one continues after its call timed out). */
  busy: boolean;
  idleTimer: NodeJS.Timeout | undefined;
}

/** A statement (or a batch) under way: what a call timeout needs to cancel it. */
interface Running {
  readonly database: Database;
  pid: number | undefined;
  /** Set when the call timed out and the statement must stop, or not start. */
  cancelled: boolean;
  /** The cancel request in flight; the connection is not reset or reused before it is done. */
  cancelling: Promise<void> | undefined;
}

const TIMED_OUT: unique symbol = Symbol('timed out');

type Operation = (input: Record<string, unknown>) => Promise<JsonObject | string>;

class Emulator implements DataApiEmulator {
  readonly faults = new Faults();
  readonly stats: EmulatorStats = {
    executeCalls: 0,
    maxRequestBytes: 0,
    maxResponseBytes: 0,
    requestBytes: 0,
    responseBytes: 0,
    slowestCallMs: 0,
  };
  private readonly database: Database;
  private readonly secretDatabases = new Map<string, { readonly key: string; readonly database: Database }>();
  private readonly retiredPools: Promise<void>[] = [];
  private readonly transactions = new Map<string, Transaction>();
  /** Statements still running after their call timed out with continueAfterTimeout. */
  private readonly continuing = new Map<Running, Promise<void>>();
  /** Transactions being rolled back after they expired. */
  private readonly expiring = new Set<Promise<void>>();
  private readonly backendPids = new WeakMap<pg.ClientBase, number>();
  private readonly types = new Map<number, TypeInfo>();
  private readonly callTimeoutMs: number;
  private readonly transactionIdleTimeoutMs: number;
  private readonly server = createServer((req, res) => void this.handle(req, res));
  private port = 0;

  constructor(private readonly options: DataApiEmulatorOptions) {
    this.database = openDatabase(options.databaseUrl);
    this.callTimeoutMs = options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
    this.transactionIdleTimeoutMs = options.transactionIdleTimeoutMs ?? DEFAULT_TRANSACTION_IDLE_TIMEOUT_MS;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async listen(): Promise<void> {
    // Node's server closes a keep-alive connection idle for 5 s, racing a client that reuses it at
    // that moment (read ECONNRESET: a test whose own work between two calls took about 5 s failed
    // so under load). The service's endpoint keeps idle connections far longer; so does this one.
    this.server.keepAliveTimeout = KEEP_ALIVE_MS;
    this.server.headersTimeout = KEEP_ALIVE_MS + 1000;
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
    for (const transaction of this.transactions.values()) clearTimeout(transaction.idleTimer);
    for (const running of this.continuing.keys()) void this.cancel(running);
    await Promise.all(this.continuing.values());
    for (const transaction of this.transactions.values()) await this.discard(transaction);
    this.transactions.clear();
    await Promise.all(this.expiring);
    const pools = [this.database, ...[...this.secretDatabases.values()].map((s) => s.database)].map((d) => d.pool.end());
    await Promise.all([...pools, ...this.retiredPools]);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/Execute') this.stats.executeCalls++;
    const latency = this.options.latencyMs ?? 0;
    try {
      const body = await this.readBody(req);
      const operation = this.operation(req.method, path);
      const fault = this.faults.takeNext();
      if (fault) throw fault;
      const input = asObject(parseJson(body), 'The request body');
      const started = performance.now();
      const output = await operation(input);
      this.stats.slowestCallMs = Math.max(this.stats.slowestCallMs, performance.now() - started);
      const text = typeof output === 'string' ? output : this.measure(JSON.stringify(output));
      if (latency > 0) await delay(latency);
      this.send(res, text);
    } catch (error) {
      if (latency > 0) await delay(latency);
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
    this.stats.requestBytes += bytes;
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
    this.stats.responseBytes += Buffer.byteLength(body);
    res.writeHead(HTTP_OK, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': randomUUID(),
    });
    res.end(body);
  }

  private sendError(res: ServerResponse, error: DataApiError): void {
    const body = JSON.stringify({ message: error.message, ...error.members });
    this.stats.responseBytes += Buffer.byteLength(body);
    res.writeHead(error.status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'x-amzn-requestid': randomUUID(),
      'x-amzn-errortype': error.errorName,
    });
    res.end(body);
  }

  /** Checks the ARNs and returns the database the call's secret connects to. */
  private async databaseFor(input: Record<string, unknown>): Promise<Database> {
    const resourceArn = requiredString(input, 'resourceArn');
    if (this.options.resourceArn && resourceArn !== this.options.resourceArn) {
      throw badRequest(`Invalid cluster arn: ${resourceArn}`);
    }
    if (input.schema !== undefined && input.schema !== null) {
      throw new DataApiError('ValidationException', "The schema parameter isn't supported");
    }
    const secretArn = requiredString(input, 'secretArn');
    const resolveSecret = this.options.resolveSecret;
    if (!resolveSecret) {
      if (this.options.secretArn && secretArn !== this.options.secretArn) throw badRequest(`Invalid secret arn: ${secretArn}`);
      return this.database;
    }
    const credentials = await resolveSecret(secretArn);
    if (!credentials) throw badRequest(`Error fetching secret ${secretArn} : Secrets Manager can't find the specified secret.`);
    const key = JSON.stringify([credentials.username, credentials.password]);
    const known = this.secretDatabases.get(secretArn);
    if (known?.key === key) return known.database;
    // A changed answer (a new password, another user) gets a pool of its own; the old one ends once its clients are back.
    if (known) this.retiredPools.push(known.database.pool.end().catch(() => undefined));
    const database = openDatabase(withCredentials(this.options.databaseUrl, credentials));
    this.secretDatabases.set(secretArn, { key, database });
    return database;
  }

  private async connect(database: Database): Promise<pg.PoolClient> {
    try {
      return await database.pool.connect();
    } catch (error) {
      if (error instanceof pg.DatabaseError && error.code === '3D000') {
        throw new DataApiError('DatabaseNotFoundException', error.message);
      }
      if (error instanceof pg.DatabaseError && error.code !== undefined && LOGIN_FAILED.has(error.code)) {
        throw badRequest(`FATAL: ${error.message}; SQLState: ${error.code}`);
      }
      throw error;
    }
  }

  /** The server process of a connection, asked once per connection. */
  private async backendPid(client: pg.ClientBase): Promise<number> {
    const known = this.backendPids.get(client);
    if (known !== undefined) return known;
    const { rows } = await client.query<{ pid: string }>('SELECT pg_backend_pid() AS pid');
    const pid = Number(rows[0]?.pid);
    this.backendPids.set(client, pid);
    return pid;
  }

  /** Runs work on a pooled connection in autocommit, then resets it: there is no session between calls. */
  private async autocommit<T>(running: Running, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const client = await this.connect(running.database);
    let reusable = true;
    try {
      running.pid = await this.backendPid(client);
      return await work(client);
    } finally {
      // DISCARD ALL drops settings, temporary tables and session advisory locks; it fails inside
      // a transaction block (a stray BEGIN), and then the connection is closed instead.
      await client.query('DISCARD ALL').catch(() => (reusable = false));
      // A cancel sent for this call may land later: such a connection is closed, never reused.
      if (running.cancelled) {
        await running.cancelling;
        reusable = false;
      }
      client.release(!reusable);
    }
  }

  /** One statement of a call, unless the call has timed out meanwhile. */
  private async statement(
    running: Running,
    client: pg.ClientBase,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryArrayResult<unknown[]>> {
    if (running.cancelled) throw timedOut(running.pid);
    const query: pg.QueryArrayConfig & { queryMode: 'extended' } = { text, values, rowMode: 'array', queryMode: 'extended' };
    return await client.query(query);
  }

  /**
   * Runs a call's statements within the call timeout. Past it the call fails with
   * StatementTimeoutException; the statement is cancelled first (and has stopped when the call
   * answers), unless the request set continueAfterTimeout.
   */
  private async withCallTimeout<T>(
    input: Record<string, unknown>,
    database: Database,
    transaction: Transaction | undefined,
    work: (running: Running) => Promise<T>,
  ): Promise<T> {
    const running: Running = { database, pid: transaction?.pid, cancelled: false, cancelling: undefined };
    if (transaction) this.hold(transaction);
    const settled = work(running).finally(() => {
      if (transaction) this.free(transaction);
    });
    const stopped = settled.then(
      () => undefined,
      () => undefined,
    );
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(resolve, this.callTimeoutMs, TIMED_OUT)));
    try {
      const outcome = await Promise.race([settled, timeout]);
      if (outcome !== TIMED_OUT) return outcome;
    } finally {
      clearTimeout(timer);
    }
    if (input.continueAfterTimeout === true) {
      this.continuing.set(running, stopped);
      void stopped.then(() => this.continuing.delete(running));
    } else {
      running.cancelled = true;
      await this.cancel(running);
      await Promise.race([stopped, delay(CANCEL_GRACE_MS)]);
    }
    throw timedOut(running.pid);
  }

  /** Cancels a running statement as its own user would, from another connection (pg_cancel_backend). */
  private cancel(running: Running): Promise<void> {
    const pid = running.pid;
    if (pid === undefined) return Promise.resolve();
    running.cancelled = true;
    running.cancelling ??= (async () => {
      const canceller = new pg.Client({ connectionString: running.database.connectionString });
      try {
        await canceller.connect();
        await canceller.query('SELECT pg_cancel_backend($1)', [pid]);
      } catch {
        // the statement has ended, or the server is gone: nothing left to cancel
      } finally {
        await canceller.end().catch(() => undefined);
      }
    })();
    return running.cancelling;
  }

  private transaction(input: Record<string, unknown>): Transaction | undefined {
    const id = optionalString(input, 'transactionId');
    if (id === undefined) return undefined;
    const transaction = this.transactions.get(id);
    if (!transaction) throw new DataApiError('NotFoundException', `Transaction ${id} is not found`);
    if (transaction.broken) {
      this.forget(transaction);
      transaction.client.off('error', transaction.onError);
      transaction.client.release(true);
      throw new DataApiError('NotFoundException', `Transaction ${id} is not found: ${transaction.broken.message}`);
    }
    if (transaction.busy) throw new DataApiError('DatabaseErrorException', 'Transaction is still running a query');
    this.armIdleTimer(transaction);
    return transaction;
  }

  /** A call is using the transaction: it cannot expire, and another call with its id is refused. */
  private hold(transaction: Transaction): void {
    transaction.busy = true;
    clearTimeout(transaction.idleTimer);
  }

  private free(transaction: Transaction): void {
    transaction.busy = false;
    this.armIdleTimer(transaction);
  }

  private armIdleTimer(transaction: Transaction): void {
    clearTimeout(transaction.idleTimer);
    if (transaction.busy || this.transactions.get(transaction.id) !== transaction) return;
    transaction.idleTimer = setTimeout(() => this.expire(transaction), this.transactionIdleTimeoutMs);
    transaction.idleTimer.unref();
  }

  /** No call for the idle timeout: roll back and forget, so later calls get NotFoundException. */
  private expire(transaction: Transaction): void {
    if (transaction.busy || this.transactions.get(transaction.id) !== transaction) return;
    this.forget(transaction);
    const rolledBack = this.discard(transaction);
    this.expiring.add(rolledBack);
    void rolledBack.then(() => this.expiring.delete(rolledBack));
  }

  private forget(transaction: Transaction): void {
    clearTimeout(transaction.idleTimer);
    this.transactions.delete(transaction.id);
  }

  /** Rolls a transaction back and closes its connection. */
  private async discard(transaction: Transaction): Promise<void> {
    await transaction.client.query('ROLLBACK').catch(() => undefined);
    transaction.client.off('error', transaction.onError);
    transaction.client.release(true);
  }

  private async executeStatement(input: Record<string, unknown>): Promise<string> {
    const database = await this.databaseFor(input);
    const sql = requiredString(input, 'sql');
    checkSql(sql);
    const { text, values } = bindParameters(sql, input.parameters);
    const run = async (running: Running, client: pg.ClientBase): Promise<StatementOutcome> => {
      const result = await this.statement(running, client, text, values);
      return { result, types: await this.resultTypes(client, result.fields) };
    };
    // Looking the transaction up and holding it happen in one tick: a concurrent call with its id is refused.
    const transaction = this.transaction(input);
    const outcome = await this.withCallTimeout(input, database, transaction, async (running) => {
      await this.injectStatementFault(sql, transaction);
      return transaction ? run(running, transaction.client) : this.autocommit(running, (client) => run(running, client));
    });
    return formatOutcome(outcome, input, (body) => this.measure(body));
  }

  /** The type of each result column; a type the Data API does not document fails the call. */
  private async resultTypes(client: pg.ClientBase, fields: readonly pg.FieldDef[]): Promise<Map<number, TypeInfo>> {
    const oids = [...new Set(fields.map((f) => f.dataTypeID))];
    const unknown = oids.filter((oid) => !this.types.has(oid) && staticTypeInfo(oid) === undefined);
    if (unknown.length > 0) {
      const { rows } = await client.query<{ oid: string; typname: string; typtype: string }>(
        'SELECT oid::text AS oid, typname::text AS typname, typtype::text AS typtype FROM pg_type WHERE oid = ANY($1::oid[])',
        [unknown],
      );
      for (const row of rows) {
        const documented = row.typtype === ENUM_TYPTYPE || row.typname === VECTOR_TYPNAME;
        this.types.set(Number(row.oid), { name: row.typname, documented });
      }
    }
    const types = new Map<number, TypeInfo>();
    for (const oid of oids) {
      const info = staticTypeInfo(oid) ?? this.types.get(oid) ?? { name: String(oid), documented: false };
      if (!info.documented) throw unsupportedType(info.name);
      types.set(oid, info);
    }
    return types;
  }

  private async batchExecuteStatement(input: Record<string, unknown>): Promise<JsonObject> {
    const database = await this.databaseFor(input);
    const sql = requiredString(input, 'sql');
    checkSql(sql);
    const sets = input.parameterSets ?? [];
    if (!Array.isArray(sets)) throw badRequest('parameterSets must be a list');
    const statements = (sets.length === 0 ? [[]] : sets).map((set: unknown) => bindParameters(sql, set));
    const run = async (running: Running, client: pg.ClientBase): Promise<JsonObject[]> => {
      const updateResults: JsonObject[] = [];
      // On Aurora PostgreSQL the service returns no generated fields, whatever the statement returns.
      for (const { text, values } of statements) {
        await this.statement(running, client, text, values);
        updateResults.push({ generatedFields: [] });
      }
      return updateResults;
    };
    // Outside a transaction the batch is made atomic here; do not rely on that against the real service.
    const atomically = (running: Running) =>
      this.autocommit(running, async (client) => {
        await client.query('BEGIN');
        try {
          const results = await run(running, client);
          await client.query('COMMIT');
          return results;
        } catch (error) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      });
    const transaction = this.transaction(input);
    const updateResults = await this.withCallTimeout(input, database, transaction, async (running) => {
      await this.injectStatementFault(sql, transaction);
      return transaction ? run(running, transaction.client) : atomically(running);
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
    const database = await this.databaseFor(input);
    const client = await this.connect(database);
    let pid: number;
    try {
      pid = await this.backendPid(client);
      await client.query('BEGIN');
    } catch (error) {
      client.release(true);
      throw error;
    }
    const id = randomBytes(TRANSACTION_ID_BYTES).toString('base64');
    const transaction: Transaction = {
      id,
      client,
      database,
      pid,
      broken: undefined,
      busy: false,
      idleTimer: undefined,
      onError: (error) => (transaction.broken = error),
    };
    client.on('error', transaction.onError);
    this.transactions.set(id, transaction);
    this.armIdleTimer(transaction);
    return { transactionId: id };
  }

  private async endTransaction(input: Record<string, unknown>, command: 'COMMIT' | 'ROLLBACK'): Promise<JsonObject> {
    await this.databaseFor(input);
    const transactionId = requiredString(input, 'transactionId');
    const transaction = this.transaction(input);
    if (!transaction) throw new DataApiError('NotFoundException', `Transaction ${transactionId} is not found`);
    this.forget(transaction);
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
