// Deployment parameters from context: defaults, typed and string values, and a clear error
// naming the parameter for every bad value.

import { describe, expect, it } from 'vitest';
import { DEFAULT_PARAMETERS, ParameterError, readParameters } from '../../infra/parameters.ts';
import { createSegmentationApp } from '../../infra/segmentation-app.ts';
import { cdkJsonContext } from './synth.ts';

const read = (context: Record<string, unknown>) => readParameters((name) => context[name]);

describe('readParameters', () => {
  it('defaults: no email, nightly at 00:00 UTC, auto-promote, 0–4 ACUs, no deletion protection, data retained, no reserved concurrency', () => {
    expect(read({})).toEqual({
      alertEmail: undefined,
      schedule: 'cron(0 0 * * ? *)',
      autoPromote: true,
      minCapacity: 0,
      maxCapacity: 4,
      deletionProtection: false,
      retainData: true,
      assignReservedConcurrency: undefined,
    });
    expect(read({})).toEqual(DEFAULT_PARAMETERS);
  });

  it('accepts typed values (cdk.json) and strings (-c name=value)', () => {
    const typed = read({
      alertEmail: 'ops@example.com',
      schedule: 'rate(12 hours)',
      autoPromote: false,
      minCapacity: 0.5,
      maxCapacity: 16,
      deletionProtection: true,
      retainData: false,
      assignReservedConcurrency: 1,
    });
    const strings = read({
      alertEmail: 'ops@example.com',
      schedule: 'rate(12 hours)',
      autoPromote: 'false',
      minCapacity: '0.5',
      maxCapacity: '16',
      deletionProtection: 'true',
      retainData: 'false',
      assignReservedConcurrency: '1',
    });
    expect(strings).toEqual(typed);
    expect(typed).toEqual({
      alertEmail: 'ops@example.com',
      schedule: 'rate(12 hours)',
      autoPromote: false,
      minCapacity: 0.5,
      maxCapacity: 16,
      deletionProtection: true,
      retainData: false,
      assignReservedConcurrency: 1,
    });
  });

  it('treats an empty alertEmail as none', () => {
    expect(read({ alertEmail: '' }).alertEmail).toBeUndefined();
  });

  it('takes assignReservedConcurrency as a positive whole number; empty means none', () => {
    expect(read({ assignReservedConcurrency: 5 }).assignReservedConcurrency).toBe(5);
    expect(read({ assignReservedConcurrency: '20' }).assignReservedConcurrency).toBe(20);
    expect(read({ assignReservedConcurrency: '' }).assignReservedConcurrency).toBeUndefined();
  });

  it('accepts EventBridge cron and rate expressions', () => {
    for (const schedule of ['cron(0 0 * * ? *)', 'cron(15 3 ? * MON-FRI *)', 'cron(0 */6 * * ? *)', 'rate(1 day)', 'rate(30 minutes)']) {
      expect(read({ schedule }).schedule).toBe(schedule);
    }
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'a word for a number',
      { minCapacity: 'abc' },
      /context minCapacity must be a number of ACUs from 0 to 256 in steps of 0.5, got "abc"/,
    ],
    ['a negative capacity', { minCapacity: -1 }, /context minCapacity .* got -1/],
    ['a capacity off the half steps', { maxCapacity: 2.3 }, /context maxCapacity .* from 1 to 256 .* got 2.3/],
    ['a maximum of 0', { maxCapacity: 0 }, /context maxCapacity .* from 1 to 256/],
    ['a capacity above 256', { maxCapacity: '300' }, /context maxCapacity .* got "300"/],
    ['an empty capacity', { minCapacity: '' }, /context minCapacity .* got ""/],
    ['max below min', { minCapacity: 8, maxCapacity: 4 }, /context maxCapacity \(4\) must be at least minCapacity \(8\)/],
    ['yes for a boolean', { autoPromote: 'yes' }, /context autoPromote must be true or false, got "yes"/],
    ['a number for a boolean', { retainData: 1 }, /context retainData must be true or false, got 1/],
    ['TRUE in capitals', { deletionProtection: 'TRUE' }, /context deletionProtection must be true or false/],
    [
      'a five-field cron',
      { schedule: 'cron(0 0 * * *)' },
      /context schedule must be an EventBridge schedule expression .* got "cron\(0 0 \* \* \*\)"/,
    ],
    ['a cron with both days', { schedule: 'cron(0 0 * * * *)' }, /context schedule/],
    ['a bare crontab line', { schedule: '0 0 * * *' }, /context schedule/],
    ['rate(1 days)', { schedule: 'rate(1 days)' }, /context schedule/],
    ['rate(2 day)', { schedule: 'rate(2 day)' }, /context schedule/],
    ['not an email', { alertEmail: 'ops-at-example.com' }, /context alertEmail must be an email address, got "ops-at-example.com"/],
    [
      'a reserved concurrency of 0',
      { assignReservedConcurrency: 0 },
      /context assignReservedConcurrency must be a positive whole number \(or absent for none\), got 0/,
    ],
    ['a negative reserved concurrency', { assignReservedConcurrency: '-1' }, /context assignReservedConcurrency .* got "-1"/],
    ['a fractional reserved concurrency', { assignReservedConcurrency: 1.5 }, /context assignReservedConcurrency .* got 1.5/],
    ['a word for a reserved concurrency', { assignReservedConcurrency: 'one' }, /context assignReservedConcurrency .* got "one"/],
    ['true for a reserved concurrency', { assignReservedConcurrency: true }, /context assignReservedConcurrency .* got true/],
  ];

  for (const [what, context, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => read(context)).toThrow(ParameterError);
      expect(() => read(context)).toThrow(message);
    });
  }
});

describe('createSegmentationApp', () => {
  it('fails before building anything when a context value is bad', () => {
    expect(() => createSegmentationApp({ context: { maxCapacity: 'lots' } })).toThrow(/context maxCapacity must be a number of ACUs/);
  });

  it('reads its parameters from the app context', () => {
    const { parameters, stack } = createSegmentationApp({
      context: { ...cdkJsonContext(), schedule: 'rate(6 hours)', minCapacity: '1', 'aws:cdk:bundling-stacks': [] },
    });
    expect(parameters).toMatchObject({ schedule: 'rate(6 hours)', minCapacity: 1, maxCapacity: 4 });
    expect(stack.stackName).toBe('CustomerSegmentation');
  });
});
