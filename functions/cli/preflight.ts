// `segments preflight`: read-only AWS calls, with the user's credentials and region, that find
// what would make a 20-minute `cdk deploy` fail, each finding one line with its fix.
// Each check is a function over injected SDK clients (built from the SDK's environment by default).

import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetAccountSettingsCommand, GetFunctionConcurrencyCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeOrderableDBInstanceOptionsCommand, RDSClient } from '@aws-sdk/client-rds';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import {
  AURORA_POSTGRES_VERSION,
  AVAILABILITY_ZONES,
  SERVERLESS_INSTANCE_CLASS,
  STACK_NAME,
  STACK_OUTPUT,
} from '../../infra/deployment.ts';
import { InvalidOptionError, SegmentationError } from '../../shared/errors.ts';
import { AwsCallError, callAws, type AwsCall } from './aws/errors.ts';
import { resolveRegion } from './aws/region.ts';
import { describeStack } from './aws/stacks.ts';
import type { Output } from './context.ts';

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface Finding {
  readonly check: string;
  readonly status: CheckStatus;
  readonly message: string;
  /** What to do about it; null when there is nothing to do. */
  readonly fix: string | null;
}

export interface ControlPlaneClients {
  readonly rds: RDSClient;
  readonly ec2: EC2Client;
  readonly serviceQuotas: ServiceQuotasClient;
  readonly cloudFormation: CloudFormationClient;
  readonly lambda: LambdaClient;
}

/** Unmodified SDK clients for the region; endpoints only through the SDK's AWS_ENDPOINT_URL_<SERVICE>. */
function controlPlaneClients(region: string): ControlPlaneClients {
  return {
    rds: new RDSClient({ region }),
    ec2: new EC2Client({ region }),
    serviceQuotas: new ServiceQuotasClient({ region }),
    cloudFormation: new CloudFormationClient({ region }),
    lambda: new LambdaClient({ region }),
  };
}

export interface PreflightOptions {
  readonly region: string;
  /** The app's stack (an existing one makes the deploy an update). */
  readonly stackName: string;
  /** The CDK bootstrap stack, `cdk bootstrap --toolkit-stack-name`. */
  readonly toolkitStackName: string;
  /** The deploy parameter `-c assignReservedConcurrency=N`, when the user means to pass it. */
  readonly assignReservedConcurrency?: number | undefined;
  /** The Aurora PostgreSQL version the stack pins. */
  readonly auroraVersion?: string;
}

const ENGINE = 'aurora-postgresql';
const CDK_TOOLKIT = 'CDKToolkit';
/**
 * aws-cdk-lib's DefaultStackSynthesizer (2.x, this project's 2.276 included) writes a
 * CheckBootstrapVersion rule into the template that fails the deploy when the bootstrap stack's
 * version is below 6 (its MIN_BOOTSTRAP_STACK_VERSION). Lookups would need 8; this stack does none
 * (it is environment-agnostic), and it sets no session tags (which would need 22).
 */
const MIN_BOOTSTRAP_VERSION = 6;
/** "VPCs per Region" in Service Quotas, and its default. */
const VPC_QUOTA = { ServiceCode: 'vpc', QuotaCode: 'L-F678F1CE' } as const;
const DEFAULT_VPC_QUOTA = 5;
/** The stack creates one VPC (infra/constructs/database.ts). */
const STACK_VPCS = 1;
/** Lambda keeps at least this much of the account's concurrency unreserved. */
const MIN_UNRESERVED_CONCURRENCY = 10;
/** Lambda's "Concurrent executions" quota in Service Quotas. */
const LAMBDA_CONCURRENCY_QUOTA = 'Service Quotas, lambda L-B99A9384 "Concurrent executions"';
/** What no read-only call tells: is the Data API offered for Aurora PostgreSQL Serverless v2 in the region? */
export const DATA_API_REGIONS_PAGE =
  'https://docs.aws.amazon.com/AmazonRDS/latest/AuroraUserGuide/Concepts.Aurora_Fea_Regions_DB-eng.Feature.Data_API.html';
const RDS_PAGE_SIZE = 100;
const EC2_PAGE_SIZE = 1000;

const CALLS = {
  orderable: { name: 'RDS DescribeOrderableDBInstanceOptions', permission: 'rds:DescribeOrderableDBInstanceOptions' },
  zones: { name: 'EC2 DescribeAvailabilityZones', permission: 'ec2:DescribeAvailabilityZones' },
  vpcs: { name: 'EC2 DescribeVpcs', permission: 'ec2:DescribeVpcs' },
  quota: { name: 'Service Quotas GetServiceQuota', permission: 'servicequotas:GetServiceQuota' },
  defaultQuota: { name: 'Service Quotas GetAWSDefaultServiceQuota', permission: 'servicequotas:GetAWSDefaultServiceQuota' },
  lambdaSettings: { name: 'Lambda GetAccountSettings', permission: 'lambda:GetAccountSettings' },
  functionConcurrency: { name: 'Lambda GetFunctionConcurrency', permission: 'lambda:GetFunctionConcurrency' },
} as const satisfies Record<string, AwsCall>;

/**
 * A check whose AWS call failed: missing or expired credentials would fail the deploy too (fail);
 * a denied read-only call only means this check could not run (warn).
 */
function notChecked(check: string, error: AwsCallError): Finding {
  if (error.kind === 'credentials') return { check, status: 'fail', message: error.problem, fix: error.fix };
  return { check, status: 'warn', message: `not checked: ${error.problem}`, fix: `${error.fix}, or check this by hand` };
}

async function guarded(check: string, work: () => Promise<Finding>): Promise<Finding> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof AwsCallError) return notChecked(check, error);
    throw error;
  }
}

/** Numeric order of engine versions (16.10 after 16.9). */
function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/** Engine versions offered with the instance class in the region (all pages), in version order. */
async function orderableVersions(rds: RDSClient, engineVersion?: string): Promise<string[]> {
  const versions = new Set<string>();
  let marker: string | undefined;
  do {
    const page = await callAws(CALLS.orderable, () =>
      rds.send(
        new DescribeOrderableDBInstanceOptionsCommand({
          Engine: ENGINE,
          EngineVersion: engineVersion,
          DBInstanceClass: SERVERLESS_INSTANCE_CLASS,
          MaxRecords: RDS_PAGE_SIZE,
          Marker: marker,
        }),
      ),
    ).catch((error: unknown) => {
      // RDS answers an engine version it does not know with an error rather than an empty list
      if (error instanceof AwsCallError && /^InvalidParameter/.test(error.code))
        return { OrderableDBInstanceOptions: [], Marker: undefined };
      throw error;
    });
    for (const option of page.OrderableDBInstanceOptions ?? []) if (option.EngineVersion) versions.add(option.EngineVersion);
    marker = page.Marker;
  } while (marker);
  return [...versions].sort(compareVersions);
}

/** (a) The pinned Aurora PostgreSQL version is offered in the region with db.serverless instances. */
function checkAuroraVersion(rds: RDSClient, region: string, version = AURORA_POSTGRES_VERSION): Promise<Finding> {
  const check = 'aurora-version';
  return guarded(check, async () => {
    const exact = await orderableVersions(rds, version);
    if (exact.includes(version))
      return {
        check,
        status: 'ok',
        message: `Aurora PostgreSQL ${version} is offered with ${SERVERLESS_INSTANCE_CLASS} instances in ${region}`,
        fix: null,
      };
    const major = version.split('.')[0]!;
    const sameMajor = (await orderableVersions(rds)).filter((v) => v.split('.')[0] === major);
    return {
      check,
      status: 'fail',
      message: `Aurora PostgreSQL ${version} is not offered with ${SERVERLESS_INSTANCE_CLASS} instances in ${region} (${
        sameMajor.length === 0 ? `no ${major}.x version is` : `${major}.x offered: ${sameMajor.join(', ')}`
      })`,
      fix:
        sameMajor.length === 0
          ? 'deploy in another region (--region / AWS_REGION)'
          : `pin one of the offered versions (AURORA_POSTGRES_VERSION in infra/deployment.ts and the cluster's engine version; 16.3 or later keeps auto-pause), or deploy in another region`,
    };
  });
}

/** (b) At least AVAILABILITY_ZONES zones are available (the database's subnets span two). */
function checkAvailabilityZones(ec2: EC2Client, region: string, needed = AVAILABILITY_ZONES): Promise<Finding> {
  const check = 'availability-zones';
  return guarded(check, async () => {
    const out = await callAws(CALLS.zones, () => ec2.send(new DescribeAvailabilityZonesCommand({})));
    const zones = (out.AvailabilityZones ?? [])
      .filter((z) => z.State === 'available' && (z.ZoneType ?? 'availability-zone') === 'availability-zone')
      .map((z) => z.ZoneName ?? '?');
    if (zones.length >= needed)
      return {
        check,
        status: 'ok',
        message: `${zones.length} availability zones available in ${region} (${zones.join(', ')}); the database uses ${needed}`,
        fix: null,
      };
    return {
      check,
      status: 'fail',
      message: `${region} has ${zones.length} available availability zone${zones.length === 1 ? '' : 's'}; the database needs ${needed} (an Aurora subnet group spans two)`,
      fix: 'deploy in a region with at least two availability zones (--region / AWS_REGION)',
    };
  });
}

/** "VPCs per Region": the applied quota, else the AWS default, else 5 with a note saying why. */
async function vpcQuota(quotas: ServiceQuotasClient): Promise<{ value: number; note: string | null }> {
  try {
    const out = await callAws(CALLS.quota, () => quotas.send(new GetServiceQuotaCommand(VPC_QUOTA)));
    if (out.Quota?.Value !== undefined) return { value: out.Quota.Value, note: null };
  } catch (error) {
    if (!(error instanceof AwsCallError)) throw error;
    if (error.code !== 'NoSuchResourceException')
      return {
        value: DEFAULT_VPC_QUOTA,
        note: `quota assumed to be the default ${DEFAULT_VPC_QUOTA}: ${error.call.name} ${error.kind === 'permission' ? `was denied (allow ${error.call.permission} to read the real one)` : `failed (${error.code})`}`,
      };
  }
  try {
    const out = await callAws(CALLS.defaultQuota, () => quotas.send(new GetAWSDefaultServiceQuotaCommand(VPC_QUOTA)));
    return { value: out.Quota?.Value ?? DEFAULT_VPC_QUOTA, note: null };
  } catch (error) {
    if (!(error instanceof AwsCallError)) throw error;
    return {
      value: DEFAULT_VPC_QUOTA,
      note: `quota assumed to be the default ${DEFAULT_VPC_QUOTA}: ${error.call.name} failed (${error.code})`,
    };
  }
}

async function countVpcs(ec2: EC2Client): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await callAws(CALLS.vpcs, () => ec2.send(new DescribeVpcsCommand({ MaxResults: EC2_PAGE_SIZE, NextToken: token })));
    count += page.Vpcs?.length ?? 0;
    token = page.NextToken;
  } while (token);
  return count;
}

/** (c) Room for the stack's VPC under "VPCs per Region" (none needed when the stack already has it). */
function checkVpcQuota(ec2: EC2Client, quotas: ServiceQuotasClient, region: string, createsVpc = true): Promise<Finding> {
  const check = 'vpc-quota';
  return guarded(check, async () => {
    const [used, quota] = await Promise.all([countVpcs(ec2), vpcQuota(quotas)]);
    const note = quota.note === null ? '' : ` (${quota.note})`;
    const adds = createsVpc ? STACK_VPCS : 0;
    const plan = createsVpc ? 'the stack creates one more' : 'the stack already has its VPC';
    if (used + adds <= quota.value)
      return { check, status: 'ok', message: `${used} of ${quota.value} VPCs in use in ${region}; ${plan}${note}`, fix: null };
    return {
      check,
      // with an assumed quota the account may well have more
      status: quota.note === null ? 'fail' : 'warn',
      message: `${used} of ${quota.value} VPCs in use in ${region} and ${plan}${note}`,
      fix: `delete an unused VPC, or ask for a higher "VPCs per Region" quota (Service Quotas, ${VPC_QUOTA.ServiceCode} ${VPC_QUOTA.QuotaCode})`,
    };
  });
}

const STABLE_BOOTSTRAP = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'IMPORT_COMPLETE']);

/** (d) The CDK bootstrap stack exists, is usable and is recent enough for this aws-cdk-lib. */
function checkBootstrap(cloudFormation: CloudFormationClient, region: string, toolkitStackName = CDK_TOOLKIT): Promise<Finding> {
  const check = 'cdk-bootstrap';
  const bootstrap = `npx cdk bootstrap${toolkitStackName === CDK_TOOLKIT ? '' : ` --toolkit-stack-name ${toolkitStackName}`} (same credentials, region ${region})`;
  return guarded(check, async () => {
    const stack = await describeStack(cloudFormation, toolkitStackName);
    if (stack === null)
      return { check, status: 'fail', message: `${region} is not bootstrapped for the CDK: no ${toolkitStackName} stack`, fix: bootstrap };
    const { status } = stack;
    if (status === 'ROLLBACK_COMPLETE' || status === 'ROLLBACK_FAILED')
      return {
        check,
        status: 'fail',
        message: `the bootstrap stack ${toolkitStackName} is ${status}: its creation failed`,
        fix: `delete it (aws cloudformation delete-stack --stack-name ${toolkitStackName}), then ${bootstrap}`,
      };
    if (status.endsWith('_IN_PROGRESS'))
      return {
        check,
        status: 'fail',
        message: `the bootstrap stack ${toolkitStackName} is ${status}`,
        fix: 'wait until it finishes, then run preflight again',
      };
    if (!status.endsWith('_COMPLETE'))
      return {
        check,
        status: 'fail',
        message: `the bootstrap stack ${toolkitStackName} is ${status}`,
        fix: `see its events in the CloudFormation console, then ${bootstrap}`,
      };
    const raw = stack.outputs.BootstrapVersion;
    const version = raw === undefined ? Number.NaN : Number(raw);
    if (!Number.isFinite(version) || version < MIN_BOOTSTRAP_VERSION)
      return {
        check,
        status: 'fail',
        message: `the bootstrap stack ${toolkitStackName} is version ${raw ?? 'unknown (legacy bootstrap, no BootstrapVersion output)'}; this project's aws-cdk-lib needs ${MIN_BOOTSTRAP_VERSION} or later`,
        fix: `${bootstrap} upgrades it in place`,
      };
    if (!STABLE_BOOTSTRAP.has(status))
      // UPDATE_ROLLBACK_COMPLETE: the last update was rolled back; the version before it is in place and usable
      return {
        check,
        status: 'warn',
        message: `the bootstrap stack ${toolkitStackName} is ${status} (its last update was rolled back), version ${version}`,
        fix: `${bootstrap} to bring it to a clean state`,
      };
    return {
      check,
      status: 'ok',
      message: `${toolkitStackName} is ${status}, bootstrap version ${version} (this project needs ${MIN_BOOTSTRAP_VERSION} or later)`,
      fix: null,
    };
  });
}

/** The app's stack: absent (a first deploy), updatable, or in a state CloudFormation refuses to deploy over. */
export interface ExistingStack {
  readonly finding: Finding;
  readonly createsVpc: boolean;
  /** The deployed assign function, whose current reservation a new one replaces. */
  readonly assignFunctionName?: string | undefined;
}

async function checkExistingStack(cloudFormation: CloudFormationClient, stackName: string): Promise<ExistingStack> {
  const check = 'stack';
  try {
    const stack = await describeStack(cloudFormation, stackName);
    if (stack === null)
      return {
        finding: { check, status: 'ok', message: `no ${stackName} stack yet: this is a first deploy`, fix: null },
        createsVpc: true,
      };
    const { status } = stack;
    const fail = (message: string, fix: string, createsVpc = false) => ({
      finding: { check, status: 'fail' as const, message, fix },
      createsVpc,
    });
    if (status === 'ROLLBACK_COMPLETE')
      return fail(
        `the ${stackName} stack is ROLLBACK_COMPLETE (its first deploy failed); CloudFormation cannot update it`,
        `delete it (aws cloudformation delete-stack --stack-name ${stackName}; a retained data bucket and the final snapshot stay), then deploy`,
        true,
      );
    if (status.endsWith('_IN_PROGRESS'))
      return fail(`the ${stackName} stack is ${status}: another operation is running`, 'wait until it finishes, then run preflight again');
    if (status === 'UPDATE_ROLLBACK_FAILED')
      return fail(
        `the ${stackName} stack is ${status}`,
        `aws cloudformation continue-update-rollback --stack-name ${stackName}, then deploy`,
      );
    if (!status.endsWith('_COMPLETE'))
      return fail(`the ${stackName} stack is ${status}`, 'see its events in the CloudFormation console and settle it, then deploy');
    return {
      finding: { check, status: 'ok', message: `the ${stackName} stack exists (${status}): this deploy is an update`, fix: null },
      createsVpc: false,
      assignFunctionName: stack.outputs[STACK_OUTPUT.assignFunctionName],
    };
  } catch (error) {
    if (!(error instanceof AwsCallError)) throw error;
    return { finding: notChecked(check, error), createsVpc: true };
  }
}

/**
 * The assign function's reservation today (an update replaces it, so it counts as unreserved);
 * 0 when there is no deployed function, with a note when it cannot be read.
 */
async function currentReservation(lambda: LambdaClient, functionName: string | undefined): Promise<{ value: number; note: string }> {
  if (functionName === undefined) return { value: 0, note: '' };
  try {
    const out = await callAws(CALLS.functionConcurrency, () =>
      lambda.send(new GetFunctionConcurrencyCommand({ FunctionName: functionName })),
    );
    const value = out.ReservedConcurrentExecutions ?? 0;
    return { value, note: value === 0 ? '' : ` (the deployed assign function's ${value} counted as unreserved: the deploy replaces it)` };
  } catch (error) {
    if (!(error instanceof AwsCallError)) throw error;
    return { value: 0, note: ` (the deployed assign function's current reservation is unknown: ${error.problem})` };
  }
}

/** (e) The account's Lambda concurrency: room for a reservation, and a quota that does not throttle. */
function checkLambdaConcurrency(lambda: LambdaClient, reserved?: number, assignFunctionName?: string): Promise<Finding> {
  const check = 'lambda-concurrency';
  const moreConcurrency = `ask for a higher quota (${LAMBDA_CONCURRENCY_QUOTA}; new accounts often start at 10)`;
  return guarded(check, async () => {
    const out = await callAws(CALLS.lambdaSettings, () => lambda.send(new GetAccountSettingsCommand({})));
    const quota = out.AccountLimit?.ConcurrentExecutions ?? 0;
    const current = reserved === undefined ? { value: 0, note: '' } : await currentReservation(lambda, assignFunctionName);
    const unreserved = (out.AccountLimit?.UnreservedConcurrentExecutions ?? quota) + current.value;
    if (reserved !== undefined && unreserved - reserved < MIN_UNRESERVED_CONCURRENCY)
      return {
        check,
        status: 'fail',
        message: `reserving ${reserved} for the assign function leaves ${unreserved - reserved} of the account's ${quota} unreserved, below the ${MIN_UNRESERVED_CONCURRENCY} Lambda keeps: the deploy would fail with "decreases account's UnreservedConcurrentExecution below its minimum value"${current.note}`,
        fix: `deploy without -c assignReservedConcurrency (the lease row already keeps nightly runs apart), or ${moreConcurrency}`,
      };
    if (quota <= MIN_UNRESERVED_CONCURRENCY)
      return {
        check,
        status: 'warn',
        message: `the account's Lambda concurrency quota is ${quota} (${unreserved} unreserved): the functions are throttled when several run at once, e.g. an upload burst during the nightly run`,
        fix: moreConcurrency,
      };
    return {
      check,
      status: 'ok',
      message: `Lambda concurrency quota ${quota}, ${unreserved} unreserved; ${
        reserved === undefined ? 'the stack reserves none' : `reserving ${reserved} leaves ${unreserved - reserved}`
      }${current.note}`,
      fix: null,
    };
  });
}

/** (f) What no read-only call can tell: the Data API's availability for the engine in the region. */
function dataApiAvailability(region: string, version = AURORA_POSTGRES_VERSION): Finding {
  return {
    check: 'data-api',
    status: 'warn',
    message: `whether the RDS Data API serves Aurora PostgreSQL ${version} Serverless v2 in ${region} is not visible to any read-only call`,
    fix: `check ${region} in the Aurora PostgreSQL table of "Supported Regions and Aurora DB engines for RDS Data API": ${DATA_API_REGIONS_PAGE} (the ${version.split('.')[0]} column must allow ${version})`,
  };
}

/** Every check, in a fixed order; the AWS calls run concurrently. */
async function runPreflight(clients: ControlPlaneClients, options: PreflightOptions): Promise<Finding[]> {
  const { region } = options;
  const version = options.auroraVersion ?? AURORA_POSTGRES_VERSION;
  const existing = checkExistingStack(clients.cloudFormation, options.stackName);
  const [stack, aurora, zones, vpcs, bootstrap, concurrency] = await Promise.all([
    existing,
    checkAuroraVersion(clients.rds, region, version),
    checkAvailabilityZones(clients.ec2, region),
    existing.then(({ createsVpc }) => checkVpcQuota(clients.ec2, clients.serviceQuotas, region, createsVpc)),
    checkBootstrap(clients.cloudFormation, region, options.toolkitStackName),
    existing.then(({ assignFunctionName }) =>
      checkLambdaConcurrency(clients.lambda, options.assignReservedConcurrency, assignFunctionName),
    ),
  ]);
  return [stack.finding, aurora, zones, vpcs, bootstrap, concurrency, dataApiAvailability(region, version)];
}

export interface PreflightValues {
  readonly region?: string | undefined;
  readonly stack?: string | undefined;
  readonly 'toolkit-stack-name'?: string | undefined;
  readonly 'assign-reserved-concurrency'?: string | undefined;
  readonly json?: boolean | undefined;
}

/** Something would make the deploy fail; the message is the report's final line (exit code 1). */
class PreflightFailedError extends SegmentationError {}

const LABEL: Record<CheckStatus, string> = { ok: 'ok', warn: 'warn', fail: 'FAIL' };

function findingLine(f: Finding): string {
  return `${LABEL[f.status].padEnd(4)}  ${f.check}: ${f.message}${f.fix === null ? '' : ` — fix: ${f.fix}`}`;
}

/** The `segments preflight` command; throws PreflightFailedError when something blocks the deploy. */
export async function preflight(
  values: PreflightValues,
  io: Output,
  clientsFor: (region: string) => ControlPlaneClients = controlPlaneClients,
): Promise<void> {
  let reserved: number | undefined;
  const rawReserved = values['assign-reserved-concurrency'];
  if (rawReserved !== undefined) {
    reserved = Number(rawReserved);
    if (!Number.isInteger(reserved) || reserved < 1)
      throw new InvalidOptionError(`--assign-reserved-concurrency must be a whole number ≥ 1 (got "${rawReserved}")`);
  }
  const region = await resolveRegion(values.region);
  const clients = clientsFor(region);
  let findings: Finding[];
  try {
    findings = await runPreflight(clients, {
      region,
      stackName: values.stack ?? STACK_NAME,
      toolkitStackName: values['toolkit-stack-name'] ?? CDK_TOOLKIT,
      assignReservedConcurrency: reserved,
    });
  } finally {
    for (const client of Object.values(clients)) client.destroy();
  }
  const failed = findings.filter((f) => f.status === 'fail').length;
  const warned = findings.filter((f) => f.status === 'warn').length;
  if (values.json) io.out(JSON.stringify({ region, ok: failed === 0, findings }));
  else for (const f of findings) io.out(findingLine(f));
  const warnings = `${warned} warning${warned === 1 ? '' : 's'} to read`;
  if (failed > 0)
    throw new PreflightFailedError(
      `preflight (${region}): ${failed} finding${failed === 1 ? '' : 's'} would make cdk deploy fail (${warnings}); fix ${failed === 1 ? 'it' : 'them'} and run segments preflight again`,
    );
  if (!values.json) io.out(`preflight (${region}): nothing found that would make cdk deploy fail (${warnings})`);
}
