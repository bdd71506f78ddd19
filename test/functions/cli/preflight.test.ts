// `segments preflight` through the CLI, its unmodified SDK clients pointed at a local stub of the
// read-only control-plane calls by the SDK's own AWS_ENDPOINT_URL_<SERVICE> variables.

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AURORA_POSTGRES_VERSION, STACK_NAME } from '../../../infra/deployment.ts';
import { DATA_API_REGIONS_PAGE, type Finding } from '../../../functions/cli/preflight.ts';
import { denyAccess, healthyAccount, startControlPlaneStub, type ControlPlaneStub } from '../../support/control-plane-stub.ts';
import { runSegments, type CliRun } from '../../support/cli.ts';

const cli = (...argv: string[]): Promise<CliRun> => runSegments(argv);

const lineOf = (run: CliRun, check: string): string => {
  const lines = run.out.filter((l) => new RegExp(`^\\S+\\s+${check}: `).test(l));
  expect(lines, `one line for ${check} in:\n${run.out.join('\n')}`).toHaveLength(1);
  return lines[0]!;
};

const ENV_KEYS = [
  'AWS_REGION',
  'AWS_PROFILE',
  'AWS_ACCESS_KEY_ID',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AWS_SHARED_CREDENTIALS_FILE',
  'AWS_CONFIG_FILE',
  'AWS_EC2_METADATA_DISABLED',
  'AWS_MAX_ATTEMPTS',
];

let stub: ControlPlaneStub;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  stub = await startControlPlaneStub();
  for (const key of [...ENV_KEYS, ...Object.keys(stub.env)]) saved[key] = process.env[key];
  Object.assign(process.env, stub.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'secret',
    // nothing from the machine running the tests: no profile files, no instance metadata
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials',
    AWS_CONFIG_FILE: '/nonexistent/config',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_SESSION_TOKEN;
});

afterAll(async () => {
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await stub.close();
});

beforeEach(() => {
  Object.assign(stub.account, healthyAccount());
  stub.calls.length = 0;
});

describe('segments preflight', () => {
  it('passes a healthy account: every check ok, the Data API page named, exit 0', async () => {
    const run = await cli('preflight');
    expect(run.code).toBe(0);
    expect(run.err).toEqual([]);
    for (const check of ['stack', 'aurora-version', 'availability-zones', 'vpc-quota', 'cdk-bootstrap', 'lambda-concurrency'])
      expect(lineOf(run, check)).toMatch(/^ok\s/);
    expect(lineOf(run, 'aurora-version')).toContain(
      `Aurora PostgreSQL ${AURORA_POSTGRES_VERSION} is offered with db.serverless instances in us-east-1`,
    );
    expect(lineOf(run, 'availability-zones')).toContain('3 availability zones available');
    expect(lineOf(run, 'vpc-quota')).toContain('1 of 5 VPCs in use in us-east-1; the stack creates one more');
    expect(lineOf(run, 'cdk-bootstrap')).toContain('bootstrap version 29');
    expect(lineOf(run, 'lambda-concurrency')).toContain('quota 1000, 1000 unreserved; the stack reserves none');
    const dataApi = lineOf(run, 'data-api');
    expect(dataApi).toMatch(/^warn\s/);
    expect(dataApi).toContain(DATA_API_REGIONS_PAGE);
    expect(run.out.at(-1)).toBe('preflight (us-east-1): nothing found that would make cdk deploy fail (1 warning to read)');
    expect(run.out).toHaveLength(8);
    // read-only calls only
    expect(new Set(stub.calls)).toEqual(
      new Set([
        'DescribeStacks',
        'DescribeOrderableDBInstanceOptions',
        'DescribeAvailabilityZones',
        'DescribeVpcs',
        'GetServiceQuota',
        'GetAccountSettings',
      ]),
    );
  });

  it('prints one JSON object with --json: findings of {check, status, message, fix}', async () => {
    const run = await cli('preflight', '--json', '--region', 'us-east-1');
    expect(run.code).toBe(0);
    expect(run.out).toHaveLength(1);
    const report = JSON.parse(run.out[0]!) as { region: string; ok: boolean; findings: Finding[] };
    expect(report.region).toBe('us-east-1');
    expect(report.ok).toBe(true);
    expect(report.findings.map((f) => f.check)).toEqual([
      'stack',
      'aurora-version',
      'availability-zones',
      'vpc-quota',
      'cdk-bootstrap',
      'lambda-concurrency',
      'data-api',
    ]);
    for (const f of report.findings) {
      expect(Object.keys(f).sort()).toEqual(['check', 'fix', 'message', 'status']);
      expect(['ok', 'warn', 'fail']).toContain(f.status);
    }
  });

  it('fails when the pinned Aurora version is not offered with db.serverless, listing the versions that are', async () => {
    stub.account.serverlessVersions = ['15.10', '16.4', '16.6', '17.5'];
    const run = await cli('preflight');
    expect(run.code).toBe(1);
    const line = lineOf(run, 'aurora-version');
    expect(line).toMatch(/^FAIL\s/);
    expect(line).toContain(
      `Aurora PostgreSQL ${AURORA_POSTGRES_VERSION} is not offered with db.serverless instances in us-east-1 (16.x offered: 16.4, 16.6)`,
    );
    expect(line).toContain('fix: pin one of the offered versions (AURORA_POSTGRES_VERSION in infra/deployment.ts');
    expect(run.err).toEqual([
      'segments: preflight (us-east-1): 1 finding would make cdk deploy fail (1 warning to read); fix it and run segments preflight again',
    ]);
  });

  it('fails with one availability zone, and does not count a local zone', async () => {
    stub.account.zones = [
      { name: 'us-east-1a' },
      { name: 'us-east-1-bos-1a', type: 'local-zone' },
      { name: 'us-east-1b', state: 'impaired' },
    ];
    const run = await cli('preflight');
    expect(run.code).toBe(1);
    expect(lineOf(run, 'availability-zones')).toBe(
      'FAIL  availability-zones: us-east-1 has 1 available availability zone; the database needs 2 (an Aurora subnet group spans two) — fix: deploy in a region with at least two availability zones (--region / AWS_REGION)',
    );
  });

  it('fails when the VPC quota is full and the stack would create a VPC', async () => {
    stub.account.vpcs = 5;
    const run = await cli('preflight');
    expect(run.code).toBe(1);
    const line = lineOf(run, 'vpc-quota');
    expect(line).toMatch(/^FAIL\s+vpc-quota: 5 of 5 VPCs in use in us-east-1 and the stack creates one more/);
    expect(line).toContain('fix: delete an unused VPC, or ask for a higher "VPCs per Region" quota (Service Quotas, vpc L-F678F1CE)');
  });

  it('needs no room for a VPC when the stack is already deployed (an update)', async () => {
    stub.account.vpcs = 5;
    stub.account.stacks[STACK_NAME] = { status: 'UPDATE_COMPLETE', outputs: {} };
    const run = await cli('preflight');
    expect(run.code).toBe(0);
    expect(lineOf(run, 'stack')).toMatch(
      /^ok\s+stack: the CustomerSegmentation stack exists \(UPDATE_COMPLETE\): this deploy is an update/,
    );
    expect(lineOf(run, 'vpc-quota')).toMatch(/^ok\s+vpc-quota: 5 of 5 VPCs in use in us-east-1; the stack already has its VPC/);
  });

  it('reads the default VPC quota when none was ever applied, and assumes 5 with a note when Service Quotas is denied', async () => {
    stub.account.vpcQuota = null;
    const unapplied = await cli('preflight');
    expect(lineOf(unapplied, 'vpc-quota')).toMatch(/^ok\s+vpc-quota: 1 of 5 VPCs in use in us-east-1; the stack creates one more$/);

    denyAccess(stub.account, 'GetServiceQuota');
    const denied = await cli('preflight');
    expect(denied.code).toBe(0);
    expect(lineOf(denied, 'vpc-quota')).toContain(
      'ok    vpc-quota: 1 of 5 VPCs in use in us-east-1; the stack creates one more (quota assumed to be the default 5: Service Quotas GetServiceQuota was denied (allow servicequotas:GetServiceQuota to read the real one))',
    );
  });

  it('fails when the stack is left ROLLBACK_COMPLETE by a failed first deploy', async () => {
    stub.account.stacks[STACK_NAME] = { status: 'ROLLBACK_COMPLETE', outputs: {} };
    const run = await cli('preflight');
    expect(run.code).toBe(1);
    expect(lineOf(run, 'stack')).toContain('fix: delete it (aws cloudformation delete-stack --stack-name CustomerSegmentation;');
  });

  it('fails without a bootstrap stack, with a bootstrap stack too old, and with one whose creation failed', async () => {
    delete stub.account.stacks.CDKToolkit;
    const missing = await cli('preflight');
    expect(missing.code).toBe(1);
    expect(lineOf(missing, 'cdk-bootstrap')).toBe(
      'FAIL  cdk-bootstrap: us-east-1 is not bootstrapped for the CDK: no CDKToolkit stack — fix: npx cdk bootstrap (same credentials, region us-east-1)',
    );

    stub.account.stacks.CDKToolkit = { status: 'UPDATE_COMPLETE', outputs: { BootstrapVersion: '4' } };
    const old = await cli('preflight');
    expect(old.code).toBe(1);
    expect(lineOf(old, 'cdk-bootstrap')).toContain("is version 4; this project's aws-cdk-lib needs 6 or later — fix: npx cdk bootstrap");

    stub.account.stacks.CDKToolkit = { status: 'ROLLBACK_COMPLETE', outputs: {} };
    const rolledBack = await cli('preflight');
    expect(lineOf(rolledBack, 'cdk-bootstrap')).toContain(
      'fix: delete it (aws cloudformation delete-stack --stack-name CDKToolkit), then npx cdk bootstrap',
    );

    stub.account.stacks.Bootstrap = { status: 'CREATE_COMPLETE', outputs: { BootstrapVersion: '30' } };
    const named = await cli('preflight', '--toolkit-stack-name', 'Bootstrap');
    expect(lineOf(named, 'cdk-bootstrap')).toMatch(/^ok\s+cdk-bootstrap: Bootstrap is CREATE_COMPLETE, bootstrap version 30/);
  });

  it('fails when a reserved concurrency would leave less than 10 unreserved, and warns of a quota of 10', async () => {
    stub.account.concurrency = { limit: 10, unreserved: 10 };
    const reserving = await cli('preflight', '--assign-reserved-concurrency', '1');
    expect(reserving.code).toBe(1);
    const line = lineOf(reserving, 'lambda-concurrency');
    expect(line).toContain(
      'reserving 1 for the assign function leaves 9 of the account\'s 10 unreserved, below the 10 Lambda keeps: the deploy would fail with "decreases account\'s UnreservedConcurrentExecution below its minimum value"',
    );
    expect(line).toContain('fix: deploy without -c assignReservedConcurrency');

    const plain = await cli('preflight');
    expect(plain.code).toBe(0);
    expect(lineOf(plain, 'lambda-concurrency')).toMatch(
      /^warn\s+lambda-concurrency: the account's Lambda concurrency quota is 10 \(10 unreserved\): the functions are throttled/,
    );

    stub.account.concurrency = { limit: 1000, unreserved: 900 };
    const roomy = await cli('preflight', '--assign-reserved-concurrency', '5');
    expect(roomy.code).toBe(0);
    expect(lineOf(roomy, 'lambda-concurrency')).toContain('quota 1000, 900 unreserved; reserving 5 leaves 895');
  });

  it("counts the deployed assign function's current reservation as unreserved on an update (the deploy replaces it)", async () => {
    stub.account.stacks[STACK_NAME] = { status: 'UPDATE_COMPLETE', outputs: { AssignFunctionName: 'CustomerSegmentation-Assign' } };
    stub.account.reservations['CustomerSegmentation-Assign'] = 5;
    stub.account.concurrency = { limit: 50, unreserved: 45 };
    const same = await cli('preflight', '--assign-reserved-concurrency', '5');
    expect(same.code).toBe(0);
    expect(lineOf(same, 'lambda-concurrency')).toContain(
      "quota 50, 50 unreserved; reserving 5 leaves 45 (the deployed assign function's 5 counted as unreserved: the deploy replaces it)",
    );
    const more = await cli('preflight', '--assign-reserved-concurrency', '41');
    expect(more.code).toBe(1);
    expect(lineOf(more, 'lambda-concurrency')).toContain("reserving 41 for the assign function leaves 9 of the account's 50 unreserved");

    denyAccess(stub.account, 'GetFunctionConcurrency');
    const unknown = await cli('preflight', '--assign-reserved-concurrency', '5');
    expect(lineOf(unknown, 'lambda-concurrency')).toContain(
      "reserving 5 leaves 40 (the deployed assign function's current reservation is unknown: Lambda GetFunctionConcurrency was denied (AccessDeniedException))",
    );
  });

  it('reports a denied call as one line naming the call and the permission, not a stack trace', async () => {
    denyAccess(stub.account, 'DescribeAvailabilityZones');
    const run = await cli('preflight');
    expect(run.code).toBe(0);
    expect(lineOf(run, 'availability-zones')).toBe(
      'warn  availability-zones: not checked: EC2 DescribeAvailabilityZones was denied (UnauthorizedOperation) — fix: allow ec2:DescribeAvailabilityZones for the credentials in use, or check this by hand',
    );
    expect(lineOf(run, 'aurora-version')).toMatch(/^ok\s/);
    expect(run.out.join('\n')).not.toMatch(/\n\s+at /);

    denyAccess(stub.account, 'GetAccountSettings');
    denyAccess(stub.account, 'DescribeOrderableDBInstanceOptions');
    const more = await cli('preflight');
    expect(lineOf(more, 'lambda-concurrency')).toContain(
      'Lambda GetAccountSettings was denied (AccessDeniedException) — fix: allow lambda:GetAccountSettings',
    );
    expect(lineOf(more, 'aurora-version')).toContain(
      'RDS DescribeOrderableDBInstanceOptions was denied (AccessDenied) — fix: allow rds:DescribeOrderableDBInstanceOptions',
    );
  });

  it('fails every AWS check with one line when there are no credentials', async () => {
    const keys = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    try {
      const run = await cli('preflight');
      expect(run.code).toBe(1);
      const line = lineOf(run, 'cdk-bootstrap');
      expect(line).toMatch(
        /^FAIL\s+cdk-bootstrap: CloudFormation DescribeStacks: the AWS credentials are missing, expired or not valid \(CredentialsProviderError\)/,
      );
      expect(line).toContain('fix: sign in again (aws sso login, aws configure, or AWS_PROFILE)');
      expect(run.out.filter((l) => l.startsWith('FAIL'))).toHaveLength(6);
      expect(stub.calls).toEqual([]);
    } finally {
      process.env.AWS_ACCESS_KEY_ID = keys.id;
      process.env.AWS_SECRET_ACCESS_KEY = keys.secret;
    }
  });

  it('refuses usage mistakes: an unknown option or an argument (exit 2), a bad number (exit 1)', async () => {
    expect((await cli('preflight', '--bogus')).code).toBe(2);
    expect((await cli('preflight', 'now')).code).toBe(2);
    const bad = await cli('preflight', '--assign-reserved-concurrency', 'two');
    expect(bad.code).toBe(1);
    expect(bad.err).toEqual(['segments: --assign-reserved-concurrency must be a whole number ≥ 1 (got "two")']);
    expect(stub.calls).toEqual([]);
  });
});
