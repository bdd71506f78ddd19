// The customer schema of a deployment (`cdk deploy -c schema=path/to/schema.json`): read relative
// to where cdk runs, validated at synth (a bad one stops it with one line naming the file and the
// field), built into every function's bundle and not its environment, and a change of it changes
// the functions' code and reruns the migration. cdk-nag stays clean with it. Context dropColumns
// (the columns a deploy may drop with their values) is checked against it at synth and reaches the
// migration's custom resource as a property, so adding it reruns the migration.

import { spawnSync } from 'node:child_process';
import { relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalSchemaJson, DEPLOYED_SCHEMA_GLOBAL, schemaSha256 } from '../../functions/adapters/deployed-schema.ts';
import { PROJECT_ROOT } from '../../infra/constructs/segmentation-function.ts';
import { ParameterError, readSchema } from '../../infra/parameters.ts';
import { createSegmentationApp } from '../../infra/segmentation-app.ts';
import { MALL_SCHEMA, parseCustomerSchema } from '../../shared/schema/customer-schema.ts';
import { schemaDir, wholesaleSchemaJson } from './schemas.ts';
import { synth, validationViolations, type Synthesized } from './synth.ts';

const files = schemaDir();
const wholesalePath = files.write('wholesale.json', wholesaleSchemaJson());
const wholesale = parseCustomerSchema(wholesaleSchemaJson(), 'wholesale.json');

let base: Synthesized;
let custom: Synthesized;
let dropping: Synthesized;

beforeAll(() => {
  base = synth();
  custom = synth({ schema: wholesalePath });
  // as cdk.json's context gives it: a JSON array
  dropping = synth({ schema: wholesalePath, dropColumns: ['spending_score', 'gender', 'age', 'gender'] });
});

afterAll(() => {
  base?.remove();
  custom?.remove();
  dropping?.remove();
  files.remove();
});

/** The message of what `work` throws (it must throw). */
function thrown(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
}

/** A copy of the nine-feature schema with one change. */
function changed(change: (json: ReturnType<typeof wholesaleSchemaJson>) => void) {
  const json = wholesaleSchemaJson();
  change(json);
  return json;
}

const functionsOf = (s: Synthesized) =>
  ({ train: s.stack.train, ingest: s.stack.ingest, assign: s.stack.assign, migrate: s.stack.migrations.handler }) as const;
const NAMES = ['train', 'ingest', 'assign', 'migrate'] as const;
const migrationProperties = (s: Synthesized) => s.json.Resources[s.logicalId(s.stack.migrations.resource)]!.Properties!;

describe('readSchema (context schema)', () => {
  it("is the mall's schema when absent or empty", () => {
    expect(readSchema(undefined)).toBe(MALL_SCHEMA);
    expect(readSchema('')).toBe(MALL_SCHEMA);
  });

  it('reads the file relative to the directory cdk runs in, and validates it (defaults filled in)', () => {
    const schema = readSchema('wholesale.json', files.dir);
    expect(schema).toEqual(wholesale);
    expect(schema.features).toHaveLength(9);
    expect(schema.features[2]).toMatchObject({ name: 'fresh', transform: 'log1p', weight: 1, missing: 'reject', aliases: [] });
    expect(readSchema(wholesalePath, '/nowhere')).toEqual(wholesale);
  });

  // each a schema the issue names, with the words the one line must carry
  const refused: Array<[string, unknown, RegExp]> = [
    [
      'a weight of 0',
      changed((j) => (j.features[8]!.weight = 0)),
      /^context schema: bad\.json: features\[8\]\.weight: must be greater than 0$/,
    ],
    [
      'a negative weight',
      changed((j) => (j.features[3]!.weight = -2)),
      /^context schema: bad\.json: features\[3\]\.weight: must be greater than 0$/,
    ],
    [
      'a column named twice (case aside)',
      changed((j) => (j.features[3]!.header = 'FRESH')),
      /^context schema: bad\.json: features\[3\]\.header: column "FRESH" is already named by features\[2\]\.header$/,
    ],
    [
      'a name that is not plain',
      changed((j) => (j.features[2]!.name = 'Fresh spend')),
      /^context schema: bad\.json: features\[2\]\.name: must be a plain name/,
    ],
    [
      'an empty category list',
      changed((j) => (j.features[1]!.categories = [])),
      /^context schema: bad\.json: features\[1\]\.categories: must list at least one value/,
    ],
    ['text that is not JSON', '{"name": "wholesale",', /^context schema: bad\.json is not JSON: \S/],
  ];
  for (const [what, content, message] of refused) {
    it(`refuses ${what} with one line naming the file and the problem`, () => {
      files.write('bad.json', content);
      const error = thrown(() => readSchema('bad.json', files.dir));
      expect(error).toBeInstanceOf(ParameterError);
      expect(error.message).not.toContain('\n');
      expect(error.message).toMatch(message);
    });
  }

  it('refuses a missing file or a directory, naming the path as given and where it looked', () => {
    const missing = thrown(() => readSchema('schemas/nope.json', files.dir));
    expect(missing).toBeInstanceOf(ParameterError);
    expect(missing.message).toBe(`context schema: cannot read schemas/nope.json (${files.dir}/schemas/nope.json): no such file`);
    expect(thrown(() => readSchema('.', files.dir)).message).toBe(`context schema: cannot read . (${files.dir}): it is a directory`);
  });

  it('refuses a value that is not a path', () => {
    expect(thrown(() => readSchema({ features: [] })).message).toBe(
      'context schema must be the path of a customer schema JSON file, got {"features":[]}',
    );
  });
});

describe('a synth with a bad schema', () => {
  it('fails before building anything', () => {
    const path = files.write(
      'zero.json',
      changed((j) => (j.features[0]!.weight = 0)),
    );
    const error = thrown(() => createSegmentationApp({ context: { schema: path } }));
    expect(error).toBeInstanceOf(ParameterError);
    expect(error.message).toBe(`context schema: ${path}: features[0].weight: must be greater than 0`);
  });

  it('`cdk synth` prints one line and exits 1 (the app entry, run as cdk runs it, with a path relative to cdk.json)', () => {
    const path = files.write(
      'twice.json',
      changed((j) => (j.features[4]!.name = 'milk')),
    );
    const given = relative(PROJECT_ROOT, path);
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'infra/app.ts'], {
      cwd: PROJECT_ROOT,
      env: { PATH: process.env.PATH ?? '', CDK_CONTEXT_JSON: JSON.stringify({ schema: given }) },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toBe(`error: context schema: ${given}: features[4].name: "milk" is already the name of features[3]\n`);
  }, 60_000);
});

describe('a synth with a nine-feature schema', () => {
  it('succeeds, with the validated schema', () => {
    expect(custom.schema).toEqual(wholesale);
    expect(base.schema).toBe(MALL_SCHEMA);
  });

  it('builds it into every function that reads or writes customers: the bundling defines its canonical JSON', () => {
    for (const name of NAMES) {
      const define = functionsOf(custom)[name].bundling.define ?? {};
      expect(Object.keys(define), name).toEqual([DEPLOYED_SCHEMA_GLOBAL]);
      // esbuild takes a define's value as source text: a string literal of the canonical JSON
      const text = JSON.parse(define[DEPLOYED_SCHEMA_GLOBAL]!) as string;
      expect(text).toBe(canonicalSchemaJson(wholesale));
      expect(parseCustomerSchema(JSON.parse(text), 'embedded')).toEqual(wholesale);
      expect(JSON.parse(functionsOf(base)[name].bundling.define![DEPLOYED_SCHEMA_GLOBAL]!)).toBe(canonicalSchemaJson(MALL_SCHEMA));
    }
  });

  it("changes each function's code asset, and not its environment (which Lambda caps at 4 KB)", () => {
    for (const name of NAMES) {
      const props = (s: Synthesized) => s.json.Resources[s.logicalId(functionsOf(s)[name].function)]!.Properties!;
      expect((props(custom).Code as { S3Key: string }).S3Key, name).not.toBe((props(base).Code as { S3Key: string }).S3Key);
      expect(props(custom).Environment, name).toEqual(props(base).Environment);
      expect(JSON.stringify(props(custom).Environment)).not.toContain('fresh');
    }
  });

  it('reruns the migration: the custom resource carries the schema hash, which the schema alone changes', () => {
    expect(migrationProperties(custom).CustomerSchemaSha256).toBe(schemaSha256(wholesale));
    expect(migrationProperties(base).CustomerSchemaSha256).toBe(schemaSha256(MALL_SCHEMA));
    expect(schemaSha256(wholesale)).not.toBe(schemaSha256(MALL_SCHEMA));
    const { CustomerSchemaSha256: _custom, ...otherCustom } = migrationProperties(custom);
    const { CustomerSchemaSha256: _base, ...otherBase } = migrationProperties(base);
    expect(otherCustom).toEqual(otherBase);
  });

  it('hashes the validated schema, not the file: key order, white space and spelled-out defaults do not count; a label does', () => {
    const json = wholesaleSchemaJson();
    const reordered = {
      features: json.features.map((f) => Object.fromEntries(Object.entries(f).reverse())),
      id: json.id,
      name: json.name,
      version: 1,
    };
    const spelled = changed((j) => (j.features[2] = { ...j.features[2], weight: 1, missing: 'reject', aliases: [] }));
    expect(schemaSha256(readSchema(files.write('reordered.json', JSON.stringify(reordered)), '/'))).toBe(schemaSha256(wholesale));
    expect(schemaSha256(readSchema(files.write('spelled.json', spelled), '/'))).toBe(schemaSha256(wholesale));
    const relabeled = changed((j) => (j.features[2]!.label = 'Fresh food'));
    expect(schemaSha256(readSchema(files.write('relabeled.json', relabeled), '/'))).not.toBe(schemaSha256(wholesale));
  });

  it('leaves no cdk-nag finding', () => {
    expect(validationViolations(custom.outdir)).toEqual([]);
  });
});

describe('context dropColumns', () => {
  it('reaches the migration as a sorted DropColumns property, the only one that changes, and is absent without it', () => {
    expect(dropping.parameters.dropColumns).toEqual(['age', 'gender', 'spending_score']);
    const { DropColumns, ...others } = migrationProperties(dropping);
    expect(DropColumns).toEqual(['age', 'gender', 'spending_score']);
    expect(others).toEqual(migrationProperties(custom));
    expect(Object.keys(migrationProperties(custom))).not.toContain('DropColumns');
    expect(Object.keys(migrationProperties(base))).not.toContain('DropColumns');
  });

  it('stops the synth with one line for a name that is still a feature of the deployed schema, or not a plain name', () => {
    const feature = thrown(() => createSegmentationApp({ context: { schema: wholesalePath, dropColumns: 'gender,fresh' } }));
    expect(feature).toBeInstanceOf(ParameterError);
    expect(feature.message).toBe(
      'context dropColumns: fresh is a feature of the deployed schema (wholesale), so its column would not be dropped: remove it from dropColumns',
    );
    // without -c schema the deployed schema is the mall's
    expect(thrown(() => createSegmentationApp({ context: { dropColumns: ['fresh', 'age'] } })).message).toMatch(
      /^context dropColumns: age is a feature of the deployed schema \(mall\)/,
    );
    const bad = thrown(() => createSegmentationApp({ context: { schema: wholesalePath, dropColumns: 'Gender Age' } }));
    expect(bad).toBeInstanceOf(ParameterError);
    expect(bad.message).not.toContain('\n');
    expect(bad.message).toMatch(/^context dropColumns must be plain column names .*, got "Gender Age"$/);
  });
});
