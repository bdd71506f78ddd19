// The customers table's columns from a customer schema, and changing a deployment's schema: the
// pure plan, then the applier over every SqlClient (pg, and the Data API through the emulator) on
// a database put back to the migrations' state before each test.

import { beforeEach, describe, expect, it } from 'vitest';
import { SchemaError } from '../../../shared/errors.ts';
import type { SqlClient, SqlParams } from '../../../shared/ports.ts';
import { MALL_SCHEMA, parseCustomerSchema, SQL_RESERVED_WORDS, type CustomerSchema } from '../../../shared/schema/customer-schema.ts';
import {
  checkName,
  columnType,
  createScratchTables,
  planSchemaChange,
  quoteIdentifier,
  scratchTableStatements,
  sqlNumber,
  SqlCustomerTable,
} from '../../../shared/sql/customer-table.ts';
import { MIGRATIONS } from '../../../shared/sql/migrations.ts';
import { SqlSchemaMigrator } from '../../../shared/sql/schema-migrator.ts';
import { SQL_CLIENTS, useSqlClients } from '../../support/database.ts';

const clients = useSqlClients('customer_table', []);
const pool = () => clients.db.repo.pool;

/** A schema from a plain object, through the parser (defaults filled in, as a schema file would be). */
const schema = (json: object): CustomerSchema => parseCustomerSchema(json, 'test schema');

type Feature = Record<string, unknown>;
const withFeatures = (base: CustomerSchema, features: readonly Feature[]): CustomerSchema =>
  schema({ ...base, features: features.map((f) => ({ ...f })) });

const spend = (name: string): Feature => ({ name, header: name, label: name, kind: 'numeric', transform: 'log1p', min: 0 });

/** A wholesale-like schema of 9 features: two categorical codes, six skewed spend columns, a bounded whole number. */
const WHOLESALE = schema({
  name: 'wholesale',
  id: { header: 'customer_id' },
  features: [
    { name: 'channel', header: 'Channel', label: 'Channel', kind: 'categorical', categories: ['Horeca', 'Retail'] },
    { name: 'region', header: 'Region', label: 'Region', kind: 'categorical', categories: 'learned' },
    spend('fresh'),
    spend('milk'),
    spend('grocery'),
    spend('frozen'),
    spend('detergents_paper'),
    spend('delicassen'),
    { name: 'orders', header: 'Orders', label: 'Orders', kind: 'numeric', integer: true, min: 0, max: 10_000 },
  ],
});

interface Sent {
  readonly sql: string;
  readonly params?: SqlParams;
}

/** A SqlClient that records every statement sent through it (inside transactions too). */
function recording(inner: SqlClient): { client: SqlClient; sent: Sent[] } {
  const sent: Sent[] = [];
  const log = (sql: string, params?: SqlParams) => void sent.push({ sql, params });
  return {
    sent,
    client: {
      query: (sql, params) => (log(sql, params), inner.query(sql, params)),
      transaction: (work) => inner.transaction((tx) => work({ query: (sql, params) => (log(sql, params), tx.query(sql, params)) })),
    },
  };
}

/** Columns of a table: name, type and nullability, in order. */
async function columns(table: string): Promise<string[]> {
  const { rows } = await pool().query(
    `SELECT column_name, data_type, is_nullable FROM information_schema.columns
     WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position`,
    [table],
  );
  return rows.map((r) => `${r.column_name} ${r.data_type}${r.is_nullable === 'NO' ? ' NOT NULL' : ''}`);
}

/** The CHECK constraints of customers: name → definition. */
async function checks(): Promise<Record<string, string>> {
  const { rows } = await pool().query(
    "SELECT conname, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = 'customers'::regclass AND contype = 'c' ORDER BY conname",
  );
  return Object.fromEntries(rows.map((r) => [r.conname, r.def]));
}

const recorded = async (): Promise<number> => (await pool().query('SELECT count(*)::int AS n FROM customer_schemas')).rows[0].n;

const MALL_CUSTOMER_COLUMNS = [
  'customer_id text NOT NULL',
  'gender text NOT NULL',
  'age integer NOT NULL',
  'annual_income_thousands numeric NOT NULL',
  'spending_score integer NOT NULL',
];

describe('quoteIdentifier', () => {
  it('double-quotes a plain name', () => {
    expect(quoteIdentifier('annual_income_thousands')).toBe('"annual_income_thousands"');
    expect(quoteIdentifier('_x9')).toBe('"_x9"');
  });

  it.each(['Age', 'a b', 'a"b', "a'b", '9lives', '', 'x'.repeat(64), 'fresh; DROP TABLE customers', 'é'])(
    'refuses %j with a one-line SchemaError',
    (name) => {
      expect(() => quoteIdentifier(name)).toThrow(SchemaError);
      expect(() => quoteIdentifier(name)).toThrow(/^[^\n]+$/);
    },
  );

  it('refuses a reserved word of SQL', () => {
    expect(() => quoteIdentifier('order')).toThrow(/"order" is a reserved word/);
    expect(() => quoteIdentifier('user')).toThrow(SchemaError);
  });

  it("knows the server's reserved words exactly (categories R and T of pg_get_keywords)", async () => {
    const { rows } = await pool().query("SELECT word FROM pg_get_keywords() WHERE catcode IN ('R', 'T') ORDER BY word");
    expect([...SQL_RESERVED_WORDS].sort()).toEqual(rows.map((r) => r.word));
  });
});

describe('sqlNumber', () => {
  it.each([
    [0, '(0)'],
    [-5, '(-5)'],
    [120, '(120)'],
    [0.1, '(0.1)'],
    [1e21, '(1e+21)'],
    [1.5e-7, '(1.5e-7)'],
    [-0, '(0)'],
  ])('writes %d as %s', (value, text) => {
    expect(sqlNumber(value)).toBe(text);
  });

  it.each([NaN, Infinity, -Infinity])('refuses %d', (value) => {
    expect(() => sqlNumber(value)).toThrow(SchemaError);
  });

  it('is read back by PostgreSQL as the same number', async () => {
    for (const value of [0, -5, 0.1, 1e21, 1.5e-7, 123.456, -2147483648]) {
      const { rows } = await pool().query(`SELECT CAST(${sqlNumber(value)} AS double precision) AS v`);
      expect(rows[0].v).toBe(value);
    }
    // after a minus sign, a negative number is not the start of a comment
    expect((await pool().query(`SELECT 2 - ${sqlNumber(-5)} AS d`)).rows).toEqual([{ d: 7 }]);
  });
});

describe('columnType', () => {
  it("gives the mall's features migration 001's types", () => {
    expect(MALL_SCHEMA.features.map((f) => columnType(f))).toEqual(['text', 'integer', 'numeric', 'integer']);
  });

  it('widens whole numbers only as far as their bounds need', () => {
    const whole = (min?: number, max?: number) =>
      withFeatures(MALL_SCHEMA, [{ ...spend('n'), transform: undefined, integer: true, min, max }]);
    expect(columnType(whole(0, 2 ** 31 - 1).features[0]!)).toBe('integer');
    expect(columnType(whole(0, 2 ** 31).features[0]!)).toBe('bigint');
    expect(columnType(whole(0).features[0]!)).toBe('bigint');
    expect(columnType(whole(-(2 ** 31) - 1, 0).features[0]!)).toBe('bigint');
    expect(columnType(whole(0, 2 ** 63).features[0]!)).toBe('numeric');
  });
});

describe('planSchemaChange', () => {
  it('plans nothing from a schema to itself', () => {
    const plan = planSchemaChange(MALL_SCHEMA, MALL_SCHEMA);
    expect(plan.statements).toEqual([]);
    expect(plan.changes).toEqual([]);
  });

  it('refuses a change of a column type in one line, naming the feature', () => {
    const decimalAge = withFeatures(
      MALL_SCHEMA,
      MALL_SCHEMA.features.map((f) => (f.name === 'age' ? { ...f, integer: false } : f)),
    );
    expect(() => planSchemaChange(MALL_SCHEMA, decimalAge)).toThrow(
      /^feature "age": its column is numeric \(integer\) and would become numeric \(numeric\); .*drop it and add it under a new name$/,
    );
    const categoricalAge = withFeatures(
      MALL_SCHEMA,
      MALL_SCHEMA.features.map((f) =>
        f.name === 'age' ? { name: 'age', header: 'age', label: 'Age', kind: 'categorical', categories: 'learned' } : f,
      ),
    );
    expect(() => planSchemaChange(MALL_SCHEMA, categoricalAge)).toThrow(SchemaError);
  });

  it('refuses to drop columns that may hold values unless allowed, naming them', () => {
    expect(() => planSchemaChange(MALL_SCHEMA, WHOLESALE)).toThrow(
      /^the schema drops columns gender, age, annual_income_thousands, spending_score of the customers table, which hold values: /,
    );
    expect(() => planSchemaChange(MALL_SCHEMA, WHOLESALE, { columnsWithData: new Set(['age']) })).toThrow(
      /^the schema drops column age of the customers table, which holds values: /,
    );
    const empty = planSchemaChange(MALL_SCHEMA, WHOLESALE, { columnsWithData: new Set() });
    expect(empty.dropped).toEqual(['gender', 'age', 'annual_income_thousands', 'spending_score']);
    expect(planSchemaChange(MALL_SCHEMA, WHOLESALE, { allowDrop: true }).dropped).toEqual(empty.dropped);
  });

  it('with a set of names, drops those columns holding values and refuses the others, saying both ways to allow them', () => {
    const named = (names: string[], columnsWithData?: Set<string>) =>
      planSchemaChange(MALL_SCHEMA, WHOLESALE, { allowDrop: new Set(names), columnsWithData });
    expect(() => named(['gender', 'age'])).toThrow(
      /^the schema drops columns annual_income_thousands, spending_score of the customers table, which hold values: allow the drop to delete them \(locally segments db migrate --allow-drop; on deploy -c dropColumns=annual_income_thousands,spending_score\), or keep the features$/,
    );
    // a name the change does not drop allows nothing else
    expect(() => named(['gender', 'age', 'annual_income_thousands', 'fresh'])).toThrow(
      /^the schema drops column spending_score of the customers table, which holds values: .*-c dropColumns=spending_score\), or keep the feature$/,
    );
    expect(() => named([])).toThrow(/^the schema drops columns gender, age, annual_income_thousands, spending_score /);
    const all = named(['gender', 'age', 'annual_income_thousands', 'spending_score']);
    expect(all.dropped).toEqual(['gender', 'age', 'annual_income_thousands', 'spending_score']);
    expect(all.statements).toEqual(planSchemaChange(MALL_SCHEMA, WHOLESALE, { allowDrop: true }).statements);
    // columns without values need no permission, as before
    expect(named(['age'], new Set(['age'])).dropped).toEqual(all.dropped);
    expect(() => planSchemaChange(MALL_SCHEMA, WHOLESALE, { allowDrop: false, columnsWithData: new Set(['age']) })).toThrow(
      /^the schema drops column age /,
    );
  });

  it('refuses a rename whose former name the schema still uses, and two features formerly the same', () => {
    const features = MALL_SCHEMA.features.map((f) => ({ ...f }));
    const keepsAge = withFeatures(MALL_SCHEMA, [...features, { ...spend('years'), formerly: 'age' }]);
    expect(() => planSchemaChange(MALL_SCHEMA, keepsAge)).toThrow(/formerly "age", but "age" is still a feature/);
    const twice = withFeatures(MALL_SCHEMA, [
      ...features.filter((f) => f.name !== 'age'),
      { ...features[1]!, name: 'years', header: 'years', formerly: 'age' },
      { ...features[1]!, name: 'years2', header: 'years2', formerly: 'age' },
    ]);
    expect(() => planSchemaChange(MALL_SCHEMA, twice)).toThrow(/both formerly "age"/);
  });

  it('refuses a feature named like a column of the scratch tables', () => {
    expect(() => planSchemaChange(MALL_SCHEMA, withFeatures(MALL_SCHEMA, [spend('sample_key')]))).toThrow(
      /"sample_key" is a column the product keeps for itself/,
    );
  });

  it("recreates the scratch tables after dropping them: the two DROPs, then the CREATE statements with the schema's columns", () => {
    const [dropPoints, dropSnapshots, snapshots, points] = scratchTableStatements(MALL_SCHEMA);
    expect([dropPoints, dropSnapshots]).toEqual(['DROP TABLE IF EXISTS training_points', 'DROP TABLE IF EXISTS training_snapshots']);
    expect([snapshots, points]).toEqual(createScratchTables(MALL_SCHEMA));
    expect(snapshots).toContain('"age" integer NOT NULL,\n        "annual_income_thousands" numeric NOT NULL');
    expect(points).toContain('"annual_income_thousands" double precision NOT NULL');
  });

  it('hashes a CHECK name that would pass 63 characters, and keeps it unique per name', () => {
    const long = 'a'.repeat(63);
    expect(checkName('age')).toBe('customers_age_check');
    expect(checkName(long)).toHaveLength(63);
    expect(checkName(long)).not.toBe(checkName(`${'a'.repeat(62)}b`));
  });
});

/** Quotes, SQL-looking text and comment markers everywhere a schema holds user text. */
const HOSTILE = `x'); DROP TABLE customers; -- "q" /* c */ :fill`;
const hostileSchema = (): CustomerSchema =>
  withFeatures(MALL_SCHEMA, [
    ...MALL_SCHEMA.features,
    {
      name: 'channel',
      header: `Channel ${HOSTILE}`,
      aliases: [`alias ${HOSTILE}`],
      label: `Label ${HOSTILE}`,
      kind: 'categorical',
      categories: [HOSTILE, "O'Porto"],
      valueAliases: { [`v ${HOSTILE}`]: "O'Porto" },
      missing: { fill: HOSTILE },
    },
  ]);

describe.each(SQL_CLIENTS)('SqlCustomerTable over %s', (name) => {
  beforeEach(async () => {
    // back to the migrations' state: every table dropped, every version applied again
    await pool().query('DROP SCHEMA public CASCADE');
    await pool().query('CREATE SCHEMA public');
    await new SqlSchemaMigrator(clients.client(name)).migrate();
  });

  const table = () => new SqlCustomerTable(clients.client(name));
  const insertMall = (id: string, age = 30) =>
    pool().query(
      "INSERT INTO customers (customer_id, gender, age, annual_income_thousands, spending_score) VALUES ($1, 'Female', $2, 50.5, 40)",
      [id, age],
    );

  it("does nothing on a fresh database for the mall's schema, which it reads as the current one", async () => {
    const before = await columns('customers');
    const { client, sent } = recording(clients.client(name));
    expect(await new SqlCustomerTable(client).apply(MALL_SCHEMA)).toEqual({ applied: false, descriptions: [], changes: [] });
    expect(sent.map((s) => s.sql).filter((sql) => !sql.startsWith('SELECT'))).toEqual([]);
    expect(await columns('customers')).toEqual(before);
    expect(await recorded()).toBe(0);
    expect(await table().current()).toEqual(MALL_SCHEMA);
  });

  it("creates the mall's scratch tables in migration 005 as createScratchTables does: columns, types, order, unlogged", async () => {
    const migrated = { snapshots: await columns('training_snapshots'), points: await columns('training_points') };
    expect(migrated.snapshots).toEqual([
      'run_id uuid NOT NULL',
      'customer_id text NOT NULL',
      'gender text NOT NULL',
      'age integer NOT NULL',
      'annual_income_thousands numeric NOT NULL',
      'spending_score integer NOT NULL',
      'sample_key text NOT NULL',
      'taken_at timestamp with time zone NOT NULL',
    ]);
    expect(migrated.points).toEqual([
      'run_id uuid NOT NULL',
      'part integer NOT NULL',
      'gender text NOT NULL',
      'age integer NOT NULL',
      'annual_income_thousands double precision NOT NULL',
      'spending_score integer NOT NULL',
      'customers integer NOT NULL',
      'segment integer',
      'sq_distance double precision',
      'taken_at timestamp with time zone NOT NULL',
    ]);
    const { rows } = await pool().query(
      "SELECT relname, relpersistence FROM pg_class WHERE relname IN ('training_snapshots', 'training_points') AND relnamespace = 'public'::regnamespace ORDER BY relname",
    );
    expect(rows).toEqual([
      { relname: 'training_points', relpersistence: 'u' },
      { relname: 'training_snapshots', relpersistence: 'u' },
    ]);
    // the same tables when a schema change recreates them for the mall's schema
    for (const sql of scratchTableStatements(MALL_SCHEMA)) await pool().query(sql);
    expect({ snapshots: await columns('training_snapshots'), points: await columns('training_points') }).toEqual(migrated);
  });

  it('changes an empty mall table to a 9-feature schema: typed columns, checks, scratch tables, the schema recorded', async () => {
    const result = await table().apply(WHOLESALE);
    expect(result.applied).toBe(true);
    expect(result.changes.filter((c) => c.change === 'dropped').map((c) => c.name)).toEqual([
      'gender',
      'age',
      'annual_income_thousands',
      'spending_score',
    ]);
    expect(result.descriptions).toContain('add column orders (integer)');
    const features = await columns('customers');
    expect(features.slice(0, 1)).toEqual(['customer_id text NOT NULL']);
    expect(features.slice(-9)).toEqual([
      'channel text NOT NULL',
      'region text NOT NULL',
      ...['fresh', 'milk', 'grocery', 'frozen', 'detergents_paper', 'delicassen'].map((f) => `${f} numeric NOT NULL`),
      'orders integer NOT NULL',
    ]);
    expect(features.some((c) => /^(gender|age|annual_income_thousands|spending_score) /.test(c))).toBe(false);
    expect(await checks()).toEqual({
      customers_delicassen_check: 'CHECK ((delicassen >= (0)::numeric))',
      customers_detergents_paper_check: 'CHECK ((detergents_paper >= (0)::numeric))',
      customers_fresh_check: 'CHECK ((fresh >= (0)::numeric))',
      customers_frozen_check: 'CHECK ((frozen >= (0)::numeric))',
      customers_grocery_check: 'CHECK ((grocery >= (0)::numeric))',
      customers_milk_check: 'CHECK ((milk >= (0)::numeric))',
      customers_orders_check: 'CHECK (((orders >= 0) AND (orders <= 10000)))',
      customers_segment_origin_check: "CHECK ((segment_origin = ANY (ARRAY['created'::text, 'assigned'::text])))",
    });
    expect(await columns('training_points')).toEqual([
      'run_id uuid NOT NULL',
      'part integer NOT NULL',
      'channel text NOT NULL',
      'region text NOT NULL',
      ...['fresh', 'milk', 'grocery', 'frozen', 'detergents_paper', 'delicassen'].map((f) => `${f} double precision NOT NULL`),
      'orders integer NOT NULL',
      'customers integer NOT NULL',
      'segment integer',
      'sq_distance double precision',
      'taken_at timestamp with time zone NOT NULL',
    ]);
    expect((await columns('training_snapshots')).slice(2, 11)).toEqual(features.slice(-9));
    expect(await recorded()).toBe(1);
    expect(await table().current()).toEqual(WHOLESALE);
    expect((await table().apply(WHOLESALE)).applied).toBe(false);
    expect(await recorded()).toBe(1);
    await expect(
      pool().query(
        "INSERT INTO customers (customer_id, channel, region, fresh, milk, grocery, frozen, detergents_paper, delicassen, orders) VALUES ('1', 'Retail', 'Lisbon', 1, 2, 3, 4, 5, 6, 10001)",
      ),
    ).rejects.toThrow(/customers_orders_check/);
  });

  it("gives the mall's columns back as migrations 001 and 005 made them (types, NOT NULL, numeric checks)", async () => {
    const fresh = {
      customers: await columns('customers'),
      snapshots: await columns('training_snapshots'),
      points: await columns('training_points'),
    };
    expect(fresh.customers.slice(0, 5)).toEqual(MALL_CUSTOMER_COLUMNS);
    await table().apply(WHOLESALE);
    await table().apply(MALL_SCHEMA, { allowDrop: true });
    const customers = await columns('customers');
    // the columns come back at the end of the table; same types and nullability
    expect([...customers].sort()).toEqual([...fresh.customers].sort());
    expect(await columns('training_snapshots')).toEqual(fresh.snapshots);
    expect(await columns('training_points')).toEqual(fresh.points);
    expect(await checks()).toMatchObject({
      customers_age_check: 'CHECK (((age >= 0) AND (age <= 120)))',
      customers_annual_income_thousands_check: 'CHECK ((annual_income_thousands >= (0)::numeric))',
      customers_spending_score_check: 'CHECK (((spending_score >= 1) AND (spending_score <= 100)))',
    });
    // gender's list of values is not written again: categorical columns get no CHECK
    expect(Object.keys(await checks())).not.toContain('customers_gender_check');
    await expect(insertMall('too old', 121)).rejects.toThrow(/customers_age_check/);
    await insertMall('oldest', 120);
  });

  it('adds features to a table with rows: the fill for existing rows (NOT NULL), else NULL (nullable)', async () => {
    await insertMall('a');
    await insertMall('b');
    const next = withFeatures(MALL_SCHEMA, [
      ...MALL_SCHEMA.features,
      { ...spend('visits'), transform: undefined, integer: true, min: 0, max: 365, missing: { fill: 3 } },
      {
        name: 'tier',
        header: 'tier',
        label: 'Tier',
        kind: 'categorical',
        categories: ['Gold', "Silver 'n' Co"],
        missing: { fill: "Silver 'n' Co" },
      },
      spend('recency'),
    ]);
    const result = await table().apply(next);
    expect(result.changes).toEqual([
      { change: 'added', name: 'visits' },
      { change: 'added', name: 'tier' },
      { change: 'added', name: 'recency' },
    ]);
    expect(result.descriptions).toContain('add column recency (numeric; existing rows get NULL until uploaded again)');
    expect((await columns('customers')).slice(-3)).toEqual(['visits integer NOT NULL', 'tier text NOT NULL', 'recency numeric']);
    const { rows } = await pool().query('SELECT customer_id, visits, tier, recency FROM customers ORDER BY customer_id');
    expect(rows).toEqual([
      { customer_id: 'a', visits: 3, tier: "Silver 'n' Co", recency: null },
      { customer_id: 'b', visits: 3, tier: "Silver 'n' Co", recency: null },
    ]);
    // the fill was only for the rows there: the table keeps no default
    const { rows: defaults } = await pool().query(
      "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'customers' AND column_name IN ('visits', 'tier', 'recency') AND column_default IS NOT NULL",
    );
    expect(defaults).toEqual([{ n: 0 }]);
    expect(Object.keys(await checks())).toEqual(expect.arrayContaining(['customers_visits_check', 'customers_recency_check']));
    expect((await columns('training_points')).slice(6, 9)).toEqual([
      'visits integer NOT NULL',
      'tier text NOT NULL',
      'recency double precision NOT NULL',
    ]);
  });

  it('renames a column named by `formerly`, keeping its values and its check', async () => {
    await insertMall('a', 41);
    const renamed = withFeatures(
      MALL_SCHEMA,
      MALL_SCHEMA.features.map((f) => (f.name === 'age' ? { ...f, name: 'age_years', formerly: 'age' } : f)),
    );
    const result = await table().apply(renamed);
    expect(result.descriptions).toEqual([
      'rename column age to age_years (values kept)',
      'recreate the scratch tables of table training with the new columns',
    ]);
    expect(result.changes).toEqual([{ change: 'renamed', name: 'age_years', formerly: 'age' }]);
    const { rows } = await pool().query('SELECT customer_id, age_years FROM customers');
    expect(rows).toEqual([{ customer_id: 'a', age_years: 41 }]);
    expect(await checks()).toMatchObject({ customers_age_years_check: 'CHECK (((age_years >= 0) AND (age_years <= 120)))' });
    expect(await columns('training_snapshots')).toContain('age_years integer NOT NULL');
    // the schema file keeps `formerly`: applying it again, or adding a new "age", renames nothing
    expect((await table().apply(renamed)).applied).toBe(false);
    const again = withFeatures(renamed, [...renamed.features, { ...spend('age'), header: 'Age again', transform: undefined }]);
    expect((await table().apply(again)).changes).toEqual([{ change: 'added', name: 'age' }]);
  });

  it('renames the mall gender and drops its list of values from migration 001 (categorical columns get no check)', async () => {
    await insertMall('a');
    const renamed = withFeatures(
      MALL_SCHEMA,
      MALL_SCHEMA.features.map((f) =>
        f.name === 'gender' ? { ...f, name: 'sex', formerly: 'gender', categories: ['Female', 'Male', 'Other'] } : f,
      ),
    );
    await table().apply(renamed);
    expect(Object.keys(await checks())).not.toContain('customers_gender_check');
    await pool().query("UPDATE customers SET sex = 'Other'");
    expect((await pool().query('SELECT sex FROM customers')).rows).toEqual([{ sex: 'Other' }]);
  });

  it('refuses to drop a column holding values unless allowed, changing nothing; drops it when allowed', async () => {
    const withVisits = withFeatures(MALL_SCHEMA, [...MALL_SCHEMA.features, { ...spend('visits'), missing: { fill: 0 } }]);
    await table().apply(withVisits);
    // an empty column goes without asking
    expect((await table().apply(MALL_SCHEMA)).changes).toEqual([{ change: 'dropped', name: 'visits' }]);
    await insertMall('a');
    await table().apply(withVisits);
    const before = { columns: await columns('customers'), recorded: await recorded() };
    await expect(table().apply(MALL_SCHEMA)).rejects.toThrow(
      /^the schema drops column visits of the customers table, which holds values: allow the drop to delete them \(locally segments db migrate --allow-drop; on deploy -c dropColumns=visits\), or keep the feature$/,
    );
    expect(await columns('customers')).toEqual(before.columns);
    expect(await recorded()).toBe(before.recorded);
    expect(await table().current()).toEqual(withVisits);
    const result = await table().apply(MALL_SCHEMA, { allowDrop: true });
    expect(result.descriptions[0]).toBe('drop column visits and its values');
    expect(await columns('customers')).not.toContain('visits numeric NOT NULL');
    expect(await table().current()).toEqual(MALL_SCHEMA);
  });

  it("drops exactly the named columns holding values (a deploy's dropColumns), refusing an unnamed one and changing nothing", async () => {
    const extra = withFeatures(MALL_SCHEMA, [...MALL_SCHEMA.features, { ...spend('visits'), missing: { fill: 0 } }, spend('tips')]);
    await insertMall('a');
    await table().apply(extra);
    await pool().query('UPDATE customers SET tips = 3');
    const before = { columns: await columns('customers'), recorded: await recorded() };
    await expect(table().apply(MALL_SCHEMA, { allowDrop: new Set(['visits']) })).rejects.toThrow(
      /^the schema drops column tips of the customers table, which holds values: .*-c dropColumns=tips\), or keep the feature$/,
    );
    await expect(table().preview(MALL_SCHEMA, { allowDrop: new Set(['visits']) })).rejects.toThrow(/drops column tips /);
    expect(await columns('customers')).toEqual(before.columns);
    expect(await recorded()).toBe(before.recorded);
    const withTips = withFeatures(MALL_SCHEMA, [...MALL_SCHEMA.features, spend('tips')]);
    const result = await table().apply(withTips, { allowDrop: new Set(['visits', 'fresh']) });
    expect(result.changes).toEqual([{ change: 'dropped', name: 'visits' }]);
    expect((await pool().query('SELECT customer_id, tips FROM customers')).rows).toEqual([{ customer_id: 'a', tips: '3' }]);
  });

  it('previews a change without making it, with the same refusals', async () => {
    await insertMall('a');
    expect(await table().preview(MALL_SCHEMA)).toBeNull();
    await expect(table().preview(WHOLESALE)).rejects.toThrow(/drops columns gender, age, annual_income_thousands, spending_score/);
    const plan = await table().preview(WHOLESALE, { allowDrop: true });
    expect(plan?.dropped).toEqual(['gender', 'age', 'annual_income_thousands', 'spending_score']);
    // the table has a row: new columns without a fill are nullable
    expect(plan?.descriptions).toContain('add column orders (integer; existing rows get NULL until uploaded again)');
    expect((await columns('customers')).slice(0, 5)).toEqual(MALL_CUSTOMER_COLUMNS);
    expect(await recorded()).toBe(0);
  });

  it('refuses a type change before running any statement', async () => {
    await insertMall('a');
    const decimalAge = withFeatures(
      MALL_SCHEMA,
      MALL_SCHEMA.features.map((f) => (f.name === 'age' ? { ...f, integer: false } : f)),
    );
    const { client, sent } = recording(clients.client(name));
    await expect(new SqlCustomerTable(client).apply(decimalAge)).rejects.toThrow(/drop it and add it under a new name/);
    expect(sent.filter((s) => /^(ALTER|INSERT|UPDATE|DROP|CREATE)/.test(s.sql))).toEqual([]);
    expect(await columns('customers')).toEqual(expect.arrayContaining(['age integer NOT NULL']));
    expect(await recorded()).toBe(0);
  });

  it('changes bounds: refused while rows lie outside them, applied (and enforced) otherwise', async () => {
    await insertMall('a', 90);
    const bounded = (max: number) =>
      withFeatures(
        MALL_SCHEMA,
        MALL_SCHEMA.features.map((f) => (f.name === 'age' ? { ...f, max } : f)),
      );
    await expect(table().apply(bounded(80))).rejects.toThrow(/^feature "age": 1 row of the customers table is outside the new bounds/);
    expect((await checks()).customers_age_check).toBe('CHECK (((age >= 0) AND (age <= 120)))');
    const result = await table().apply(bounded(100));
    expect(result.changes).toEqual([{ change: 'bounds', name: 'age' }]);
    expect(result.descriptions).toEqual(['bounds of age: 0 to 100 (were 0 to 120)']);
    await expect(insertMall('b', 101)).rejects.toThrow(/customers_age_check/);
  });

  it('refuses a name that is not plain before sending any SQL', async () => {
    const { client, sent } = recording(clients.client(name));
    const evil = {
      ...MALL_SCHEMA,
      features: [...MALL_SCHEMA.features, { ...MALL_SCHEMA.features[1]!, name: 'x"; DROP TABLE customers; --' }],
    };
    await expect(new SqlCustomerTable(client).apply(evil as CustomerSchema)).rejects.toThrow(SchemaError);
    const reserved = { ...MALL_SCHEMA, features: [...MALL_SCHEMA.features, { ...MALL_SCHEMA.features[1]!, name: 'select' }] };
    await expect(new SqlCustomerTable(client).apply(reserved as CustomerSchema)).rejects.toThrow(/reserved word/);
    expect(sent).toEqual([]);
  });

  it('never puts a header, label, alias or category in SQL: a fill travels as a parameter', async () => {
    await insertMall('a');
    const { client, sent } = recording(clients.client(name));
    const hostile = hostileSchema();
    await new SqlCustomerTable(client).apply(hostile);
    const sqls = sent.map((s) => s.sql);
    for (const sql of sqls) {
      expect(sql).not.toContain("'");
      expect(sql).not.toContain('DROP TABLE customers');
      expect(sql).not.toMatch(/--|\/\*/);
    }
    expect(sent.filter((s) => s.params?.fill !== undefined)).toEqual([
      { sql: 'UPDATE customers SET "channel" = CAST(:fill AS text)', params: { fill: HOSTILE } },
    ]);
    expect((await pool().query('SELECT channel FROM customers')).rows).toEqual([{ channel: HOSTILE }]);
    expect(await table().current()).toEqual(hostile);
  });
});
