// Deployment parameters from context: the defaults are the ones the README documents, each value
// is read from its own context name (typed or as a string) and reaches the synthesized template,
// and every bad value stops the synth with a message naming the parameter and the value.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/constructs/segmentation-function.ts';
import { DEFAULT_PARAMETERS, ParameterError, readParameters, type SegmentationParameters } from '../../infra/parameters.ts';
import { createSegmentationApp } from '../../infra/segmentation-app.ts';
import { parseCustomerSchema } from '../../shared/schema/customer-schema.ts';
import { wholesaleSchemaJson } from './schemas.ts';
import { synth, type Synthesized } from './synth.ts';

type Name = keyof SegmentationParameters;
const NAMES = Object.keys(DEFAULT_PARAMETERS) as Name[];

const read = (context: Record<string, unknown>) => readParameters((name) => context[name]);

/** The README's "Parameters" table: name → the default column as written. */
function documentedDefaults(): Map<string, string> {
  const readme = readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('### Parameters'));
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const cells = /^\|\s*`(\w+)`\s*\|\s*(.*?)\s*\|/.exec(line);
    if (cells) rows.set(cells[1]!, cells[2]!);
    else if (rows.size > 0 && !line.startsWith('|')) break;
  }
  return rows;
}

/** A documented default as a value: `none` is absent, `code` is the text, true/false and numbers typed. */
function documentedValue(cell: string): unknown {
  if (cell === 'none') return undefined;
  const text = cell.replace(/^`(.*)`$/, '$1');
  if (text === 'true' || text === 'false') return text === 'true';
  return /^\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

describe('DEFAULT_PARAMETERS', () => {
  it('are the defaults the README documents, for exactly the parameters it lists', () => {
    const documented = documentedDefaults();
    expect([...documented.keys()].sort()).toEqual([...NAMES].sort());
    for (const name of NAMES) expect(DEFAULT_PARAMETERS[name], name).toEqual(documentedValue(documented.get(name)!));
  });

  it('are what an empty context gives: nightly at 00:00 UTC like the original DAG, auto-promotion on', () => {
    expect(read({})).toEqual(DEFAULT_PARAMETERS);
    expect(DEFAULT_PARAMETERS.schedule).toBe('cron(0 0 * * ? *)');
    expect(DEFAULT_PARAMETERS.autoPromote).toBe(true);
  });
});

describe('readParameters', () => {
  // per parameter: a value other than the default, as cdk.json types it and as `-c name=value` gives it
  const given: Record<Name, { typed: unknown; string: string; value: unknown }> = {
    alertEmail: { typed: 'ops@example.com', string: 'ops@example.com', value: 'ops@example.com' },
    schedule: { typed: 'rate(12 hours)', string: 'rate(12 hours)', value: 'rate(12 hours)' },
    autoPromote: { typed: false, string: 'false', value: false },
    minCapacity: { typed: 0.5, string: '0.5', value: 0.5 },
    maxCapacity: { typed: 16, string: '16', value: 16 },
    deletionProtection: { typed: true, string: 'true', value: true },
    retainData: { typed: false, string: 'false', value: false },
    assignReservedConcurrency: { typed: 1, string: '1', value: 1 },
    dropColumns: { typed: ['milk', 'fresh', 'milk'], string: 'milk, fresh', value: ['fresh', 'milk'] },
  };

  for (const name of NAMES) {
    it(`reads ${name} from its own context name, typed or as a string, leaving every other parameter at its default`, () => {
      const { typed, string, value } = given[name];
      expect(value).not.toEqual(DEFAULT_PARAMETERS[name]);
      expect(read({ [name]: typed })).toEqual({ ...DEFAULT_PARAMETERS, [name]: value });
      expect(read({ [name]: string })).toEqual({ ...DEFAULT_PARAMETERS, [name]: value });
    });
  }

  it('treats an empty alertEmail, assignReservedConcurrency or dropColumns as none', () => {
    expect(read({ alertEmail: '', assignReservedConcurrency: '', dropColumns: '' })).toEqual(DEFAULT_PARAMETERS);
    expect(read({ dropColumns: [] })).toEqual(DEFAULT_PARAMETERS);
  });

  it('refuses to drop a column the deployed schema still has as a feature, in one line naming it and the schema', () => {
    expect(() => read({ dropColumns: 'fresh,age' })).toThrow(ParameterError);
    expect(() => read({ dropColumns: 'fresh,age' })).toThrow(
      /^context dropColumns: age is a feature of the deployed schema \(mall\), so its column would not be dropped: remove it from dropColumns$/,
    );
    const wholesale = parseCustomerSchema(wholesaleSchemaJson(), 'wholesale.json');
    const readWith = (value: unknown) => readParameters((name) => (name === 'dropColumns' ? value : undefined), wholesale);
    expect(() => readWith(['gender', 'milk', 'fresh'])).toThrow(
      /^context dropColumns: milk, fresh are features of the deployed schema \(wholesale\), so their columns would not be dropped: remove them from dropColumns$/,
    );
    expect(readWith('spending_score,gender,age,annual_income_thousands').dropColumns).toEqual([
      'age',
      'annual_income_thousands',
      'gender',
      'spending_score',
    ]);
  });

  it('accepts EventBridge cron and rate expressions', () => {
    for (const schedule of ['cron(0 0 * * ? *)', 'cron(15 3 ? * MON-FRI *)', 'cron(0 */6 * * ? *)', 'rate(1 day)', 'rate(30 minutes)']) {
      expect(read({ schedule }).schedule).toBe(schedule);
    }
  });

  // per parameter, values it refuses and the words that say what it accepts
  const refused: Record<Name, { values: unknown[]; accepts: RegExp }> = {
    alertEmail: { values: ['ops-at-example.com', 42], accepts: /must be an email address/ },
    schedule: {
      values: ['cron(0 0 * * *)', 'cron(0 0 * * * *)', '0 0 * * *', 'rate(1 days)', 'rate(2 day)', 7],
      accepts: /must be an EventBridge schedule expression such as "cron\(0 0 \* \* \? \*\)" \(six fields, UTC\) or "rate\(1 day\)"/,
    },
    autoPromote: { values: ['yes', 'TRUE', 1], accepts: /must be true or false/ },
    minCapacity: { values: ['abc', -1, '', 0.3, 300], accepts: /must be a number of ACUs from 0 to 256 in steps of 0.5/ },
    maxCapacity: { values: [0, 2.3, '300', 'lots'], accepts: /must be a number of ACUs from 1 to 256 in steps of 0.5/ },
    deletionProtection: { values: ['TRUE', 'no', 0], accepts: /must be true or false/ },
    retainData: { values: [1, 'False'], accepts: /must be true or false/ },
    assignReservedConcurrency: {
      values: [0, '-1', 1.5, 'one', true],
      accepts: /must be a positive whole number \(or absent for none\)/,
    },
    dropColumns: {
      values: ['Fresh', 'fresh milk', 'fresh,,milk', 'fresh;milk', 'fresh,', '"fresh"', 42, ['fresh', 1], { fresh: true }],
      accepts:
        /must be plain column names \(lower-case letters, digits and _, starting with a letter or _, at most 63 characters\) separated by commas, or a JSON array of them/,
    },
  };
  /** A context value as the message quotes it. */
  const quoted = (value: unknown): string => (typeof value === 'string' ? `"${value}"` : JSON.stringify(value));

  for (const name of NAMES) {
    it(`refuses a bad ${name}, naming the parameter, what it accepts and the value given`, () => {
      for (const value of refused[name].values) {
        let error: unknown;
        try {
          read({ [name]: value });
        } catch (e) {
          error = e;
        }
        expect(error, `${name} = ${quoted(value)}`).toBeInstanceOf(ParameterError);
        const message = (error as ParameterError).message;
        expect(message.startsWith(`context ${name} `)).toBe(true);
        expect(message).not.toContain('\n');
        expect(message).toMatch(refused[name].accepts);
        expect(message.endsWith(`, got ${quoted(value)}`)).toBe(true);
      }
    });
  }

  it('refuses a maximum capacity below the minimum, naming both', () => {
    expect(() => read({ minCapacity: 8, maxCapacity: 4 })).toThrow(ParameterError);
    expect(() => read({ minCapacity: 8, maxCapacity: 4 })).toThrow('context maxCapacity (4) must be at least minCapacity (8)');
    // the minimum alone above the default maximum is the same mistake
    expect(() => read({ minCapacity: 8 })).toThrow(
      `context maxCapacity (${DEFAULT_PARAMETERS.maxCapacity}) must be at least minCapacity (8)`,
    );
  });
});

describe('createSegmentationApp', () => {
  let synthesized: Synthesized;
  beforeAll(() => {
    synthesized = synth({ schedule: 'rate(6 hours)', minCapacity: '1', autoPromote: 'false' });
  });
  afterAll(() => {
    synthesized?.remove();
  });

  it('fails before building anything when a context value is bad', () => {
    expect(() => createSegmentationApp({ context: { maxCapacity: 'lots' } })).toThrow(ParameterError);
    expect(() => createSegmentationApp({ context: { maxCapacity: 'lots' } })).toThrow(/^context maxCapacity must be a number of ACUs/);
  });

  it('builds the stack from the context: the template carries the values given, and the defaults for the rest', () => {
    const { template } = synthesized;
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(6 hours)' });
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      ServerlessV2ScalingConfiguration: { MinCapacity: 1, MaxCapacity: DEFAULT_PARAMETERS.maxCapacity },
      DeletionProtection: DEFAULT_PARAMETERS.deletionProtection,
    });
    const train = synthesized.json.Resources[synthesized.logicalId(synthesized.stack.train.function)]!;
    expect((train.Properties!.Environment as { Variables: Record<string, unknown> }).Variables.AUTO_PROMOTE).toBe('false');
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });
});
