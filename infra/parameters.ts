// Deployment parameters, read from CDK context (`cdk deploy -c name=value` or cdk.json) with
// documented defaults, and validated up front: a bad value fails the synth naming the parameter.
// The customer schema (`-c schema=path/to/schema.json`) is read here too, from its file.

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SchemaError } from '../shared/errors.ts';
import { IDENTIFIER, MALL_SCHEMA, parseCustomerSchema, type CustomerSchema } from '../shared/schema/customer-schema.ts';

/** What a data engineer can choose at deploy time (README "Deploy to AWS" has the table). */
export interface SegmentationParameters {
  /** Where alarm notifications are emailed; none = alarms go to the SNS topic only. */
  readonly alertEmail: string | undefined;
  /** EventBridge schedule expression of the nightly assignment (UTC). */
  readonly schedule: string;
  /** AUTO_PROMOTE for the train function: a newly trained model becomes active. */
  readonly autoPromote: boolean;
  /** Aurora Serverless v2 minimum ACUs; 0 lets the cluster pause when idle. */
  readonly minCapacity: number;
  /** Aurora Serverless v2 maximum ACUs. */
  readonly maxCapacity: number;
  /** Deletion protection on the Aurora cluster. */
  readonly deletionProtection: boolean;
  /** Keep the data bucket and a final database snapshot when the stack is deleted. */
  readonly retainData: boolean;
  /**
   * Reserved concurrency of the assign function; none = unreserved. Not needed for correctness
   * (the lease row serialises nightly runs), and any reservation fails the deploy in accounts whose
   * concurrency quota is 10 (Lambda keeps 10 unreserved).
   */
  readonly assignReservedConcurrency: number | undefined;
  /**
   * Feature columns this deploy may drop with their values (sorted, none = undefined): the schema
   * no longer has them, and a deploy refuses to delete values nobody named.
   */
  readonly dropColumns: readonly string[] | undefined;
}

export const DEFAULT_PARAMETERS: SegmentationParameters = {
  alertEmail: undefined,
  schedule: 'cron(0 0 * * ? *)',
  autoPromote: true,
  minCapacity: 0,
  maxCapacity: 4,
  deletionProtection: false,
  retainData: true,
  assignReservedConcurrency: undefined,
  dropColumns: undefined,
};

/** Aurora Serverless v2 capacity limits, in ACUs (half steps). */
const MAX_ACU = 256;
const MIN_MAX_ACU = 1;
const ACU_STEP = 0.5;

/** A context value that cannot be used; the message names the parameter and what it accepts. */
export class ParameterError extends Error {
  override readonly name = 'ParameterError';
}

type Lookup = (name: string) => unknown;

function text(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
}

function readBoolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ParameterError(`context ${name} must be true or false, got ${text(value)}`);
}

function readAcu(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  if (!Number.isFinite(n) || n < min || n > MAX_ACU || !Number.isInteger(n / ACU_STEP)) {
    throw new ParameterError(
      `context ${name} must be a number of ACUs from ${min} to ${MAX_ACU} in steps of ${ACU_STEP}, got ${text(value)}`,
    );
  }
  return n;
}

const CRON_FIELDS = 6;
const RATE = /^rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)$/;
const CRON = /^cron\((.+)\)$/;

function readSchedule(value: unknown): string {
  if (value === undefined) return DEFAULT_PARAMETERS.schedule;
  const fail = (): never => {
    throw new ParameterError(
      `context schedule must be an EventBridge schedule expression such as "cron(0 0 * * ? *)" (six fields, UTC) or "rate(1 day)", got ${text(value)}`,
    );
  };
  if (typeof value !== 'string') return fail();
  const rate = RATE.exec(value);
  if (rate) {
    if ((rate[1] === '1') === rate[2]!.endsWith('s')) fail(); // "rate(1 day)", "rate(2 days)"
    return value;
  }
  const cron = CRON.exec(value);
  if (!cron) return fail();
  const fields = cron[1]!.trim().split(/\s+/);
  // EventBridge cron: exactly one of day-of-month and day-of-week is '?'
  if (fields.length !== CRON_FIELDS || (fields[2] === '?') === (fields[4] === '?')) fail();
  return value;
}

/** A positive whole number, typed (cdk.json) or as a string (`-c name=2`); absent or '' = none. */
function readPositiveInteger(name: string, value: unknown): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new ParameterError(`context ${name} must be a positive whole number (or absent for none), got ${text(value)}`);
  }
  return n;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function readEmail(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !EMAIL.test(value)) {
    throw new ParameterError(`context alertEmail must be an email address, got ${text(value)}`);
  }
  return value;
}

/**
 * Column names, `-c dropColumns=fresh,milk` or a JSON array in cdk.json; absent, '' or [] = none.
 * A name the deployed schema still has as a feature is refused: its column would stay, and a
 * permission left over from an earlier drop must not follow the feature when it comes back.
 */
function readDropColumns(value: unknown, schema: CustomerSchema): readonly string[] | undefined {
  if (value === undefined || value === '') return undefined;
  const names: unknown[] | undefined =
    typeof value === 'string' ? value.split(',').map((n) => n.trim()) : Array.isArray(value) ? value : undefined;
  if (names === undefined || !names.every((n): n is string => typeof n === 'string' && IDENTIFIER.test(n))) {
    throw new ParameterError(
      `context dropColumns must be plain column names (lower-case letters, digits and _, starting with a letter or _, at most 63 characters) separated by commas, or a JSON array of them, got ${text(value)}`,
    );
  }
  if (names.length === 0) return undefined;
  const features = new Set(schema.features.map((f) => f.name));
  const kept = names.filter((n) => features.has(n));
  if (kept.length > 0) {
    const [these, are, columns] = kept.length > 1 ? ['them', 'are features', 'their columns'] : ['it', 'is a feature', 'its column'];
    throw new ParameterError(
      `context dropColumns: ${kept.join(', ')} ${are} of the deployed schema (${schema.name}), so ${columns} would not be dropped: remove ${these} from dropColumns`,
    );
  }
  return [...new Set(names)].sort();
}

/**
 * Reads and validates every parameter; `lookup` is usually `(name) => app.node.tryGetContext(name)`.
 * Values may be typed (cdk.json) or strings (`-c minCapacity=0.5`). `schema` is the deployment's
 * customer schema (readSchema), which dropColumns is checked against.
 */
export function readParameters(lookup: Lookup, schema: CustomerSchema = MALL_SCHEMA): SegmentationParameters {
  const minCapacity = readAcu('minCapacity', lookup('minCapacity'), DEFAULT_PARAMETERS.minCapacity, 0);
  const maxCapacity = readAcu('maxCapacity', lookup('maxCapacity'), DEFAULT_PARAMETERS.maxCapacity, MIN_MAX_ACU);
  if (maxCapacity < minCapacity) {
    throw new ParameterError(`context maxCapacity (${maxCapacity}) must be at least minCapacity (${minCapacity})`);
  }
  return {
    alertEmail: readEmail(lookup('alertEmail')),
    schedule: readSchedule(lookup('schedule')),
    autoPromote: readBoolean('autoPromote', lookup('autoPromote'), DEFAULT_PARAMETERS.autoPromote),
    minCapacity,
    maxCapacity,
    deletionProtection: readBoolean('deletionProtection', lookup('deletionProtection'), DEFAULT_PARAMETERS.deletionProtection),
    retainData: readBoolean('retainData', lookup('retainData'), DEFAULT_PARAMETERS.retainData),
    assignReservedConcurrency: readPositiveInteger('assignReservedConcurrency', lookup('assignReservedConcurrency')),
    dropColumns: readDropColumns(lookup('dropColumns'), schema),
  };
}

/** The first line of a message (a JSON parser's or the file system's), for a one-line error. */
const oneLine = (message: string): string => message.split('\n', 1)[0]!.trim();

/**
 * The deployment's customer schema: context `schema`, the path of a schema JSON file relative to
 * `baseDir` — the directory `cdk` runs in, the one with cdk.json (the CDK CLI runs the app there).
 * Absent or '' = MALL_SCHEMA. A file that cannot be read, is not JSON or is not a valid schema
 * fails the synth with one line naming the file (as given) and, for a schema problem, the field.
 */
export function readSchema(value: unknown, baseDir: string = process.cwd()): CustomerSchema {
  if (value === undefined || value === '') return MALL_SCHEMA;
  if (typeof value !== 'string') {
    throw new ParameterError(`context schema must be the path of a customer schema JSON file, got ${text(value)}`);
  }
  const path = resolve(baseDir, value);
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    const { code, message } = error as NodeJS.ErrnoException;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : oneLine(message);
    throw new ParameterError(`context schema: cannot read ${value} (${path}): ${why}`, { cause: error });
  }
  let json: unknown;
  try {
    json = JSON.parse(content);
  } catch (error) {
    throw new ParameterError(`context schema: ${value} is not JSON: ${oneLine((error as Error).message)}`, { cause: error });
  }
  try {
    return parseCustomerSchema(json, value);
  } catch (error) {
    // SchemaError's message is already "<file>: <field>: <problem>"
    if (error instanceof SchemaError) throw new ParameterError(`context schema: ${oneLine(error.message)}`, { cause: error });
    throw error;
  }
}
