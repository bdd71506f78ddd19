// The customers table's feature columns, generated from a customer schema, and changing a
// deployment's schema: planSchemaChange works out the statements from one schema to another (pure),
// SqlCustomerTable applies them in one transaction and records the schema applied (migration 006).
//
// No user text in SQL. A feature's name is the only text of a schema that reaches SQL, and only
// through quoteIdentifier (a plain lower-case name, not a reserved word, double-quoted); headers,
// labels and category values never do, and a categorical fill travels as a parameter. Numbers
// (bounds, a numeric fill) are written by sqlNumber: finite only, JavaScript's shortest text in
// parentheses. Categorical columns get no CHECK: it would have to list category texts. The one a
// database may have from migration 001 (gender's, listing the mall's two values) stays while the
// mall's gender stays as it is, and goes once that column is renamed or its categories change.
//
// The rules of a change, from the schema last applied (or the mall's) to the new one:
// - A feature whose name the table already has is the same column. Its type (columnType) never
//   changes in place: a change of kind, of integer, or of bounds that need a wider integer is
//   refused (drop it and add it under a new name). Changed bounds replace its CHECK, after counting
//   the rows outside them (refused when there are some). Anything else (label, headers, weight,
//   transform, categories, how a missing value is read) changes no SQL: it applies to rows read
//   from then on and to models trained from then on.
// - A feature named `formerly` something the table has (and the new schema no longer names) is that
//   column renamed: the values stay. A rename goes one step at a time (no chains, no swaps).
// - A feature the table has and the new schema lacks is dropped with its values; a column that
//   holds any value is dropped only when the caller allows it (allowDrop: every column, as the
//   CLI's --allow-drop, or the columns named, as a deploy's dropColumns).
// - A new feature is a new column. Existing rows get the feature's fill when it has one (NOT NULL;
//   a numeric fill as a DEFAULT dropped right after, so the table keeps no default; a categorical
//   one by an UPDATE with the fill as a parameter). Without a fill, existing rows get NULL: their
//   value is unknown, not a value the CSV would have accepted. The column is NOT NULL when the table
//   has no rows when the change is applied (as the mall's columns are), nullable otherwise; a NULL
//   feature means "stored before the feature existed": such a row can be neither trained on nor
//   labeled until its values are uploaded again.
// - When the feature columns change (added, dropped, renamed), the scratch tables of table training
//   (migration 005) are recreated with the schema's columns: they hold nothing worth keeping.

import { canonicalJson } from '../model/artifact.ts';
import { SchemaError } from '../errors.ts';
import type { SqlClient, SqlParams } from '../ports.ts';
import { MIGRATION_LOCK } from './migrations.ts';
import {
  IDENTIFIER,
  MALL_SCHEMA,
  parseCustomerSchema,
  PRODUCT_COLUMNS,
  SQL_RESERVED_WORDS,
  type CustomerSchema,
  type NumericSchemaFeature,
  type SchemaFeature,
} from '../schema/customer-schema.ts';

/** A plain name (the schema's IDENTIFIER, not a reserved word) double-quoted for SQL text; SchemaError otherwise. */
export function quoteIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) {
    throw new SchemaError(
      `"${name}" is not a plain name: lower-case letters, digits and _, starting with a letter or _, at most 63 characters`,
    );
  }
  if (SQL_RESERVED_WORDS.has(name)) throw new SchemaError(`"${name}" is a reserved word of SQL: choose another name for the column`);
  return `"${name}"`;
}

/** A feature's column name, quoted: also refused when it is one of the product's own columns. */
export function featureColumn(name: string, alias?: string): string {
  const quoted = quoteIdentifier(name);
  if (PRODUCT_COLUMNS.has(name)) throw new SchemaError(`"${name}" is a column the product keeps for itself: choose another name`);
  return alias === undefined ? quoted : `${alias}.${quoted}`;
}

/** Every feature name of a schema as a column name, checked before any SQL is written or sent. */
export function checkColumnNames(schema: CustomerSchema): void {
  for (const f of schema.features) {
    featureColumn(f.name);
    if (f.formerly !== undefined) featureColumn(f.formerly);
  }
}

const NUMBER_TEXT = /^-?\d+(\.\d+)?(e[+-]\d+)?$/;

/**
 * A number for SQL text: finite only, JavaScript's shortest round-trip text (what the CSV reader
 * compares against), in parentheses so that a minus sign never meets another one.
 */
export function sqlNumber(value: number): string {
  const text = String(value);
  if (!Number.isFinite(value) || !NUMBER_TEXT.test(text)) throw new SchemaError(`${text} is not a finite number`);
  return `(${text})`;
}

export type ColumnType = 'text' | 'integer' | 'bigint' | 'numeric';

const INT4_MIN = -(2 ** 31);
const INT4_MAX = 2 ** 31 - 1;
const INT8_LIMIT = 2 ** 63;

/**
 * A feature's column type in the customers table (and in training_snapshots): categorical → text;
 * numeric → numeric (exact, as the mall's income), integer → integer when both bounds lie in its
 * range, else bigint (the CSV reader's whole numbers are safe integers), numeric when a bound is
 * beyond bigint.
 */
export function columnType(feature: SchemaFeature): ColumnType {
  if (feature.kind === 'categorical') return 'text';
  if (!feature.integer) return 'numeric';
  const { min, max } = feature;
  if (min !== undefined && max !== undefined && min >= INT4_MIN && max <= INT4_MAX) return 'integer';
  if ((min !== undefined && min < -INT8_LIMIT) || (max !== undefined && max >= INT8_LIMIT)) return 'numeric';
  return 'bigint';
}

/** A feature's column type in training_points (migration 005): numeric values become double precision, as the model computes. */
export function pointColumnType(feature: SchemaFeature): string {
  const type = columnType(feature);
  return type === 'numeric' ? 'double precision' : type;
}

/** The name of a feature's CHECK: PostgreSQL's own `customers_<column>_check` (as migration 001's), hashed when too long. */
export function checkName(name: string): string {
  const plain = `customers_${name}_check`;
  if (plain.length <= 63) return plain;
  let hash = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193) >>> 0;
  return `customers_${name.slice(0, 38)}_${hash.toString(16).padStart(8, '0')}_check`;
}

/** The bounds condition of a numeric feature's column (null: no bounds), as its CHECK holds it. */
function boundsCondition(feature: SchemaFeature, column: string): string | null {
  if (feature.kind !== 'numeric') return null;
  const parts: string[] = [];
  if (feature.min !== undefined) parts.push(`${column} >= ${sqlNumber(feature.min)}`);
  if (feature.max !== undefined) parts.push(`${column} <= ${sqlNumber(feature.max)}`);
  return parts.length === 0 ? null : parts.join(' AND ');
}

const sameBounds = (a: SchemaFeature, b: SchemaFeature): boolean =>
  a.kind === 'numeric' && b.kind === 'numeric' && a.min === b.min && a.max === b.max;

const boundsText = (f: NumericSchemaFeature): string =>
  f.min !== undefined && f.max !== undefined
    ? `${f.min} to ${f.max}`
    : f.min !== undefined
      ? `at least ${f.min}`
      : f.max !== undefined
        ? `at most ${f.max}`
        : 'none';

/** A statement of a plan, run as it is: parameters only where a value is user text (a categorical fill). */
export interface PlannedStatement {
  readonly sql: string;
  readonly params?: SqlParams;
}

/** What a change does to one feature. `redefined`: the definition changed but not the column (no SQL). */
export type FeatureChange =
  | { readonly change: 'added'; readonly name: string }
  | { readonly change: 'dropped'; readonly name: string }
  | { readonly change: 'renamed'; readonly name: string; readonly formerly: string }
  | { readonly change: 'bounds'; readonly name: string }
  | { readonly change: 'redefined'; readonly name: string };

/** A bounds CHECK added to a column that existed: the rows outside it, counted before the statements run. */
export interface BoundsCheck {
  /** The feature's name in the new schema. */
  readonly name: string;
  /** Counts the rows outside the new bounds (parameter-free; the column as named before the change). */
  readonly countOutside: string;
}

export interface SchemaChangePlan {
  /** In order: constraints and columns dropped, renamed, added, constraints added, scratch tables recreated. */
  readonly statements: readonly PlannedStatement[];
  /** One line per change, for a person. */
  readonly descriptions: readonly string[];
  readonly changes: readonly FeatureChange[];
  /** The columns dropped (names before the change). */
  readonly dropped: readonly string[];
  readonly boundsChecks: readonly BoundsCheck[];
}

/**
 * Which dropped columns may take their values with them: `true` every one (`segments db migrate
 * --allow-drop`), a set only those named (a deploy's `-c dropColumns=…`); others are refused.
 */
export type DropPermission = boolean | ReadonlySet<string>;

const mayDrop = (permission: DropPermission | undefined, name: string): boolean =>
  permission === true || (typeof permission === 'object' && permission.has(name));

export interface PlanOptions {
  /** Drop columns that hold values (else refused, naming them). Default false. */
  readonly allowDrop?: DropPermission;
  /** Which of the dropped columns hold a value; by default every one is taken to. */
  readonly columnsWithData?: ReadonlySet<string>;
  /** The customers table has no rows: new columns without a fill are NOT NULL too. Default false. */
  readonly emptyTable?: boolean;
}

interface Matched {
  readonly old: SchemaFeature;
  readonly now: SchemaFeature;
}

interface Matching {
  readonly kept: readonly Matched[];
  readonly added: readonly SchemaFeature[];
  readonly dropped: readonly SchemaFeature[];
}

/** Pairs the features of `to` with the columns of `from`: by name first, then by `formerly`. */
function matchFeatures(from: CustomerSchema, to: CustomerSchema): Matching {
  const old = new Map(from.features.map((f) => [f.name, f]));
  const names = new Set(to.features.map((f) => f.name));
  const kept: Matched[] = [];
  const added: SchemaFeature[] = [];
  const renamedFrom = new Map<string, string>();
  for (const now of to.features) {
    const same = old.get(now.name);
    if (same !== undefined) {
      kept.push({ old: same, now });
      continue;
    }
    const former = now.formerly === undefined ? undefined : old.get(now.formerly);
    if (former === undefined) {
      added.push(now);
      continue;
    }
    if (names.has(former.name)) {
      throw new SchemaError(
        `feature "${now.name}": formerly "${former.name}", but "${former.name}" is still a feature of the schema: rename one step at a time`,
      );
    }
    const other = renamedFrom.get(former.name);
    if (other !== undefined) throw new SchemaError(`features "${other}" and "${now.name}" are both formerly "${former.name}"`);
    renamedFrom.set(former.name, now.name);
    kept.push({ old: former, now });
  }
  const matched = new Set(kept.map((k) => k.old.name));
  return { kept, added, dropped: from.features.filter((f) => !matched.has(f.name)) };
}

/** The columns a change from `from` to `to` would drop (what the applier checks for values first). */
export function columnsToDrop(from: CustomerSchema, to: CustomerSchema): string[] {
  checkColumnNames(from);
  checkColumnNames(to);
  return matchFeatures(from, to).dropped.map((f) => f.name);
}

/** A feature's definition without its name and former name: what `redefined` compares. */
const definition = (f: SchemaFeature): string => canonicalJson({ ...f, name: undefined, formerly: undefined });

const sameCategories = (a: SchemaFeature, b: SchemaFeature): boolean =>
  a.kind === 'categorical' && b.kind === 'categorical' && canonicalJson(a.categories) === canonicalJson(b.categories);

/**
 * The CREATE statements of the scratch tables of table training with the schema's feature columns:
 * training_snapshots (the customers table's types) and training_points (pointColumnType). With the
 * mall's schema these are migration 005's statements.
 */
export function createScratchTables(schema: CustomerSchema): string[] {
  checkColumnNames(schema);
  const snapshotColumns = schema.features.map((f) => `${featureColumn(f.name)} ${columnType(f)} NOT NULL`);
  const pointColumns = schema.features.map((f) => `${featureColumn(f.name)} ${pointColumnType(f)} NOT NULL`);
  return [
    `CREATE UNLOGGED TABLE training_snapshots (
        run_id uuid NOT NULL,
        customer_id text NOT NULL,
        ${snapshotColumns.join(',\n        ')},
        sample_key text NOT NULL,
        taken_at timestamptz NOT NULL DEFAULT now()
      )`,
    `CREATE UNLOGGED TABLE training_points (
        run_id uuid NOT NULL,
        part integer NOT NULL,
        ${pointColumns.join(',\n        ')},
        customers integer NOT NULL,
        segment integer,
        sq_distance double precision,
        taken_at timestamptz NOT NULL DEFAULT now()
      )`,
  ];
}

/** The statements that recreate the scratch tables of table training with the schema's feature columns (they hold nothing worth keeping). */
export function scratchTableStatements(schema: CustomerSchema): string[] {
  return ['DROP TABLE IF EXISTS training_points', 'DROP TABLE IF EXISTS training_snapshots', ...createScratchTables(schema)];
}

/**
 * The statements, in order, that change the customers table from schema `from` to schema `to`, with
 * a line per change for a person and the features changed (rules in the header of this file). Pure:
 * what it needs to know of the table's rows comes in `options`. Throws a one-line SchemaError for a
 * name that is not a plain column name, a column's type change, a rename it cannot do, or a drop of
 * a column holding values that is not allowed.
 */
export function planSchemaChange(from: CustomerSchema, to: CustomerSchema, options: PlanOptions = {}): SchemaChangePlan {
  checkColumnNames(from);
  checkColumnNames(to);
  const { kept, added, dropped } = matchFeatures(from, to);

  for (const { old, now } of kept) {
    const before = columnType(old);
    const after = columnType(now);
    if (old.kind !== now.kind || before !== after) {
      throw new SchemaError(
        `feature "${now.name}": its column is ${old.kind} (${before}) and would become ${now.kind} (${after}); a column's type does not change in place: drop it and add it under a new name`,
      );
    }
  }
  const refused = dropped
    .filter((f) => (options.columnsWithData?.has(f.name) ?? true) && !mayDrop(options.allowDrop, f.name))
    .map((f) => f.name);
  if (refused.length > 0) {
    const s = refused.length > 1 ? 's' : '';
    throw new SchemaError(
      `the schema drops column${s} ${refused.join(', ')} of the customers table, which hold${s === '' ? 's' : ''} values: allow the drop to delete them (locally segments db migrate --allow-drop; on deploy -c dropColumns=${refused.join(',')}), or keep the feature${s}`,
    );
  }

  const dropStatements: PlannedStatement[] = [];
  const renameStatements: PlannedStatement[] = [];
  const addStatements: PlannedStatement[] = [];
  const checkStatements: PlannedStatement[] = [];
  const descriptions: string[] = [];
  const changes: FeatureChange[] = [];
  const boundsChecks: BoundsCheck[] = [];
  const alter = (sql: string): PlannedStatement => ({ sql: `ALTER TABLE customers ${sql}` });

  for (const f of dropped) {
    dropStatements.push(alter(`DROP COLUMN ${featureColumn(f.name)}`));
    descriptions.push(`drop column ${f.name} and its values`);
    changes.push({ change: 'dropped', name: f.name });
  }

  for (const { old, now } of kept) {
    const renamed = old.name !== now.name;
    const oldCondition = boundsCondition(old, featureColumn(old.name));
    const newCondition = boundsCondition(now, featureColumn(now.name));
    const boundsChanged = !sameBounds(old, now) && (oldCondition !== null || newCondition !== null);
    if (old.kind === 'categorical' && (renamed || !sameCategories(old, now))) {
      // migration 001's CHECK of gender lists the mall's values; no other categorical column has one
      dropStatements.push(alter(`DROP CONSTRAINT IF EXISTS ${quoteIdentifier(checkName(old.name))}`));
    }
    if (oldCondition !== null && boundsChanged) dropStatements.push(alter(`DROP CONSTRAINT ${quoteIdentifier(checkName(old.name))}`));
    if (renamed) {
      renameStatements.push(alter(`RENAME COLUMN ${featureColumn(old.name)} TO ${featureColumn(now.name)}`));
      if (oldCondition !== null && !boundsChanged) {
        renameStatements.push(
          alter(`RENAME CONSTRAINT ${quoteIdentifier(checkName(old.name))} TO ${quoteIdentifier(checkName(now.name))}`),
        );
      }
      descriptions.push(`rename column ${old.name} to ${now.name} (values kept)`);
      changes.push({ change: 'renamed', name: now.name, formerly: old.name });
    }
    if (boundsChanged && now.kind === 'numeric') {
      if (newCondition !== null) {
        checkStatements.push(alter(`ADD CONSTRAINT ${quoteIdentifier(checkName(now.name))} CHECK (${newCondition})`));
        boundsChecks.push({
          name: now.name,
          countOutside: `SELECT CAST(count(*) AS bigint) AS n FROM customers WHERE NOT (${boundsCondition(now, featureColumn(old.name))})`,
        });
      }
      descriptions.push(`bounds of ${now.name}: ${boundsText(now)} (were ${boundsText(old as NumericSchemaFeature)})`);
      changes.push({ change: 'bounds', name: now.name });
    }
    if (!boundsChanged && !renamed && definition(old) !== definition(now)) {
      descriptions.push(`feature ${now.name} redefined, column unchanged (applies to rows read and models trained from now on)`);
      changes.push({ change: 'redefined', name: now.name });
    }
  }

  for (const f of added) {
    const column = featureColumn(f.name);
    const type = columnType(f);
    const fill = f.missing === 'reject' ? undefined : f.missing.fill;
    if (fill === undefined || options.emptyTable === true) {
      const notNull = fill !== undefined || options.emptyTable === true;
      addStatements.push(alter(`ADD COLUMN ${column} ${type}${notNull ? ' NOT NULL' : ''}`));
      descriptions.push(`add column ${f.name} (${type}${notNull ? '' : '; existing rows get NULL until uploaded again'})`);
    } else if (typeof fill === 'number') {
      addStatements.push(alter(`ADD COLUMN ${column} ${type} NOT NULL DEFAULT ${sqlNumber(fill)}`));
      addStatements.push(alter(`ALTER COLUMN ${column} DROP DEFAULT`));
      descriptions.push(`add column ${f.name} (${type}; existing rows get the feature's fill, ${fill})`);
    } else {
      addStatements.push(alter(`ADD COLUMN ${column} ${type}`));
      addStatements.push({ sql: `UPDATE customers SET ${column} = CAST(:fill AS text)`, params: { fill } });
      addStatements.push(alter(`ALTER COLUMN ${column} SET NOT NULL`));
      descriptions.push(`add column ${f.name} (${type}; existing rows get the feature's fill)`);
    }
    const condition = boundsCondition(f, column);
    if (condition !== null) checkStatements.push(alter(`ADD CONSTRAINT ${quoteIdentifier(checkName(f.name))} CHECK (${condition})`));
    changes.push({ change: 'added', name: f.name });
  }

  if (descriptions.length === 0 && canonicalJson(from) !== canonicalJson(to))
    descriptions.push("columns unchanged (only the schema's other details changed)");
  const statements = [...dropStatements, ...renameStatements, ...addStatements, ...checkStatements];
  if (changes.some((c) => c.change === 'added' || c.change === 'dropped' || c.change === 'renamed')) {
    statements.push(...scratchTableStatements(to).map((sql) => ({ sql })));
    descriptions.push('recreate the scratch tables of table training with the new columns');
  }
  return { statements, descriptions, changes, dropped: dropped.map((f) => f.name), boundsChecks };
}

/** What applying a schema did: nothing when it was the table's schema already. */
export interface SchemaChangeResult {
  readonly applied: boolean;
  readonly descriptions: readonly string[];
  readonly changes: readonly FeatureChange[];
}

type Query = Pick<SqlClient, 'query'>;

const LATEST_SCHEMA = 'SELECT CAST(schema AS text) AS schema FROM customer_schemas ORDER BY version DESC LIMIT 1';

async function recordedSchema(sql: Query): Promise<CustomerSchema> {
  const [row] = await sql.query(LATEST_SCHEMA);
  if (row === undefined) return MALL_SCHEMA;
  return parseCustomerSchema(JSON.parse(String(row.schema)), 'the customer schema recorded in the database');
}

/**
 * The customers table's schema (customer_schemas, migration 006) and changing it. Needs the
 * migrations applied first (SchemaMigrator).
 */
export class SqlCustomerTable {
  constructor(private readonly sql: SqlClient) {}

  /** The schema last applied, or the mall's when none was (the columns of migration 001). */
  current(): Promise<CustomerSchema> {
    return recordedSchema(this.sql);
  }

  /**
   * What applying `to` would do to the table as it is now, without doing it (the same checks: a
   * drop of values not allowed, rows outside new bounds, throw). Null when `to` is the current schema.
   */
  preview(to: CustomerSchema, options: { allowDrop?: DropPermission } = {}): Promise<SchemaChangePlan | null> {
    checkColumnNames(to);
    return this.sql.transaction(async (tx) => {
      const from = await recordedSchema(tx);
      return canonicalJson(from) === canonicalJson(to) ? null : planFor(tx, from, to, options);
    });
  }

  /**
   * Changes the table to schema `to` in one transaction, serialised with the migrations: reads the
   * schema last applied, plans the change (refusing a drop of values `allowDrop` does not allow, and bounds
   * that rows already break), runs it, and records `to`. Nothing is run or recorded when `to` is the
   * current schema (same canonical JSON). Names are checked before any SQL is sent.
   */
  async apply(to: CustomerSchema, options: { allowDrop?: DropPermission } = {}): Promise<SchemaChangeResult> {
    checkColumnNames(to);
    return this.sql.transaction(async (tx) => {
      await tx.query(MIGRATION_LOCK);
      const from = await recordedSchema(tx);
      if (canonicalJson(from) === canonicalJson(to)) return { applied: false, descriptions: [], changes: [] };
      const plan = await planFor(tx, from, to, options);
      for (const statement of plan.statements) await tx.query(statement.sql, statement.params);
      await tx.query('INSERT INTO customer_schemas (schema, changes) VALUES (CAST(:schema AS jsonb), CAST(:changes AS jsonb))', {
        schema: JSON.stringify(to),
        changes: JSON.stringify(plan.descriptions),
      });
      return { applied: true, descriptions: plan.descriptions, changes: plan.changes };
    });
  }
}

/**
 * Plans the change with what the table holds: whether it has rows and which of the columns to drop
 * hold a value (one parameter-free statement of booleans), then the rows outside new bounds.
 */
async function planFor(
  tx: Query,
  from: CustomerSchema,
  to: CustomerSchema,
  options: { allowDrop?: DropPermission },
): Promise<SchemaChangePlan> {
  const dropping = columnsToDrop(from, to);
  const probes = dropping.map((name, i) => `EXISTS (SELECT 1 FROM customers WHERE ${featureColumn(name)} IS NOT NULL) AS c${i}`);
  const [row] = await tx.query(`SELECT ${['EXISTS (SELECT 1 FROM customers) AS has_rows', ...probes].join(', ')}`);
  const columnsWithData = new Set(dropping.filter((_, i) => row?.[`c${i}`] === true));
  const plan = planSchemaChange(from, to, { allowDrop: options.allowDrop, columnsWithData, emptyTable: row?.has_rows !== true });
  for (const check of plan.boundsChecks) {
    const [outside] = await tx.query(check.countOutside);
    const n = Number(outside?.n ?? 0);
    if (n > 0) {
      throw new SchemaError(
        `feature "${check.name}": ${n} row${n > 1 ? 's' : ''} of the customers table ${n > 1 ? 'are' : 'is'} outside the new bounds: correct or delete ${n > 1 ? 'them' : 'it'} first, or keep the bounds`,
      );
    }
  }
  return plan;
}
