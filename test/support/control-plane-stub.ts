// A local stand-in for the AWS control-plane calls `segments preflight` and `segments smoke` make,
// spoken in each service's own protocol so the unmodified SDK clients parse it: RDS, EC2 and
// CloudFormation (awsQuery / EC2 query: form-encoded POST, XML), Service Quotas (awsJson1_1) and
// Lambda (restJson1: GetAccountSettings, GetFunctionConcurrency, Invoke). Point the SDK at it with AWS_ENDPOINT_URL_<SERVICE>.

import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A deployed function: what Invoke runs (a thrown error becomes a FunctionError, as in Lambda). */
export type StubFunction = (payload: unknown) => Promise<unknown>;

export interface StubStack {
  status: string;
  outputs: Record<string, string>;
}

export interface StubError {
  /** HTTP status, e.g. 403 */
  status: number;
  /** The AWS error code, e.g. AccessDenied */
  code: string;
  message?: string;
}

/** The account and region the stub answers for; tests change it between calls. */
export interface ControlPlaneAccount {
  region: string;
  /** aurora-postgresql versions orderable with db.serverless instances. */
  serverlessVersions: string[];
  zones: Array<{ name: string; state?: string; type?: string }>;
  vpcs: number;
  /** The applied "VPCs per Region" quota; null = never changed (GetServiceQuota: NoSuchResourceException). */
  vpcQuota: number | null;
  stacks: Record<string, StubStack>;
  concurrency: { limit: number; unreserved: number };
  /** Function name → its reserved concurrency (GetFunctionConcurrency); absent = none reserved. */
  reservations: Record<string, number>;
  functions: Record<string, StubFunction>;
  /** Operation name (e.g. DescribeAvailabilityZones, Invoke) → the error it answers with. */
  errors: Record<string, StubError>;
}

export interface ControlPlaneStub {
  readonly endpoint: string;
  readonly account: ControlPlaneAccount;
  /** Operation names in the order received (SDK retries included). */
  readonly calls: string[];
  /** AWS_ENDPOINT_URL_<SERVICE> for every service the stub speaks. */
  readonly env: Record<string, string>;
  close(): Promise<void>;
}

/** An account where nothing blocks a deploy (us-east-1-like). */
export function healthyAccount(): ControlPlaneAccount {
  return {
    region: 'us-east-1',
    serverlessVersions: ['16.6', '16.8', '16.9', '16.13', '17.5'],
    zones: [{ name: 'us-east-1a' }, { name: 'us-east-1b' }, { name: 'us-east-1c' }],
    vpcs: 1,
    vpcQuota: 5,
    stacks: { CDKToolkit: { status: 'UPDATE_COMPLETE', outputs: { BootstrapVersion: '29', BucketName: 'cdk-hnb659fds-assets' } } },
    concurrency: { limit: 1000, unreserved: 1000 },
    reservations: {},
    functions: {},
    errors: {},
  };
}

const NAMESPACES = {
  rds: 'http://rds.amazonaws.com/doc/2014-10-31/',
  cloudformation: 'http://cloudformation.amazonaws.com/doc/2010-05-15/',
  ec2: 'http://ec2.amazonaws.com/doc/2016-11-15/',
} as const;
type QueryService = keyof typeof NAMESPACES;

const QUERY_ACTIONS: Record<string, QueryService> = {
  DescribeOrderableDBInstanceOptions: 'rds',
  DescribeStacks: 'cloudformation',
  DescribeAvailabilityZones: 'ec2',
  DescribeVpcs: 'ec2',
};

/** The code each protocol uses for an IAM denial. */
const DENIED_CODE: Record<string, { status: number; code: string }> = {
  DescribeOrderableDBInstanceOptions: { status: 403, code: 'AccessDenied' },
  DescribeStacks: { status: 403, code: 'AccessDenied' },
  DescribeAvailabilityZones: { status: 403, code: 'UnauthorizedOperation' },
  DescribeVpcs: { status: 403, code: 'UnauthorizedOperation' },
  GetServiceQuota: { status: 400, code: 'AccessDeniedException' },
  GetAWSDefaultServiceQuota: { status: 400, code: 'AccessDeniedException' },
  GetAccountSettings: { status: 403, code: 'AccessDeniedException' },
  GetFunctionConcurrency: { status: 403, code: 'AccessDeniedException' },
  Invoke: { status: 403, code: 'AccessDeniedException' },
};

/** Makes `operation` answer as IAM does when the caller lacks its permission. */
export function denyAccess(account: ControlPlaneAccount, operation: keyof typeof DENIED_CODE): void {
  const denied = DENIED_CODE[operation]!;
  account.errors[operation] = { ...denied, message: `User: arn:aws:iam::123456789012:user/dev is not authorized to perform: ${operation}` };
}

const xml = (value: string | number | boolean): string =>
  String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'x-amzn-requestid': randomUUID(), ...headers });
  res.end(body);
}

function queryResult(service: QueryService, action: string, inner: string): string {
  if (service === 'ec2')
    return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NAMESPACES.ec2}"><requestId>${randomUUID()}</requestId>${inner}</${action}Response>`;
  return `<${action}Response xmlns="${NAMESPACES[service]}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></${action}Response>`;
}

function queryError(service: QueryService, error: StubError): string {
  const message = xml(error.message ?? error.code);
  if (service === 'ec2')
    return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xml(error.code)}</Code><Message>${message}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`;
  return `<ErrorResponse xmlns="${NAMESPACES[service]}"><Error><Type>Sender</Type><Code>${xml(error.code)}</Code><Message>${message}</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`;
}

function handleQuery(account: ControlPlaneAccount, action: string, params: URLSearchParams): { status: number; body: string } {
  const service = QUERY_ACTIONS[action];
  if (service === undefined)
    return { status: 400, body: queryError('rds', { status: 400, code: 'InvalidAction', message: `unknown action ${action}` }) };
  const error = account.errors[action];
  if (error !== undefined) return { status: error.status, body: queryError(service, error) };
  switch (action) {
    case 'DescribeOrderableDBInstanceOptions': {
      const version = params.get('EngineVersion');
      const matches =
        params.get('Engine') === 'aurora-postgresql' && params.get('DBInstanceClass') === 'db.serverless'
          ? account.serverlessVersions.filter((v) => version === null || v === version)
          : [];
      const options = matches
        .map(
          (v) =>
            `<OrderableDBInstanceOption><Engine>aurora-postgresql</Engine><EngineVersion>${xml(v)}</EngineVersion><DBInstanceClass>db.serverless</DBInstanceClass><StorageType>aurora</StorageType><SupportsClusters>true</SupportsClusters></OrderableDBInstanceOption>`,
        )
        .join('');
      return { status: 200, body: queryResult(service, action, `<OrderableDBInstanceOptions>${options}</OrderableDBInstanceOptions>`) };
    }
    case 'DescribeAvailabilityZones': {
      const items = account.zones
        .map(
          (z, i) =>
            `<item><zoneName>${xml(z.name)}</zoneName><zoneState>${xml(z.state ?? 'available')}</zoneState><regionName>${xml(account.region)}</regionName><zoneId>az${i + 1}</zoneId><zoneType>${xml(z.type ?? 'availability-zone')}</zoneType><optInStatus>opt-in-not-required</optInStatus></item>`,
        )
        .join('');
      return { status: 200, body: queryResult(service, action, `<availabilityZoneInfo>${items}</availabilityZoneInfo>`) };
    }
    case 'DescribeVpcs': {
      const items = Array.from(
        { length: account.vpcs },
        (_, i) =>
          `<item><vpcId>vpc-${String(i).padStart(8, '0')}</vpcId><state>available</state><cidrBlock>10.${i}.0.0/16</cidrBlock><isDefault>${i === 0}</isDefault></item>`,
      ).join('');
      return { status: 200, body: queryResult(service, action, `<vpcSet>${items}</vpcSet>`) };
    }
    default: {
      const name = params.get('StackName') ?? '';
      const stack = account.stacks[name];
      if (stack === undefined)
        return {
          status: 400,
          body: queryError(service, { status: 400, code: 'ValidationError', message: `Stack with id ${name} does not exist` }),
        };
      const outputs = Object.entries(stack.outputs)
        .map(([k, v]) => `<member><OutputKey>${xml(k)}</OutputKey><OutputValue>${xml(v)}</OutputValue></member>`)
        .join('');
      const member = `<member><StackId>arn:aws:cloudformation:${account.region}:123456789012:stack/${xml(name)}/${randomUUID()}</StackId><StackName>${xml(name)}</StackName><CreationTime>2026-01-01T00:00:00.000Z</CreationTime><StackStatus>${xml(stack.status)}</StackStatus><Outputs>${outputs}</Outputs></member>`;
      return { status: 200, body: queryResult(service, action, `<Stacks>${member}</Stacks>`) };
    }
  }
}

function handleServiceQuotas(
  account: ControlPlaneAccount,
  operation: string,
  input: Record<string, unknown>,
): { status: number; body: unknown } {
  const error = account.errors[operation];
  if (error !== undefined) return { status: error.status, body: { __type: error.code, Message: error.message ?? error.code } };
  const isVpcQuota = input.ServiceCode === 'vpc' && input.QuotaCode === 'L-F678F1CE';
  const value = operation === 'GetAWSDefaultServiceQuota' ? 5 : account.vpcQuota;
  if (!isVpcQuota || value === null)
    return {
      status: 400,
      body: { __type: 'NoSuchResourceException', Message: 'The request failed because the specified service does not exist.' },
    };
  return {
    status: 200,
    body: {
      Quota: {
        ServiceCode: 'vpc',
        ServiceName: 'Amazon Virtual Private Cloud (Amazon VPC)',
        QuotaCode: 'L-F678F1CE',
        QuotaName: 'VPCs per Region',
        Value: value,
        Unit: 'None',
        Adjustable: true,
        GlobalQuota: false,
      },
    },
  };
}

function lambdaError(res: ServerResponse, error: StubError): void {
  send(res, error.status, 'application/json', JSON.stringify({ Type: 'User', Message: error.message ?? error.code }), {
    'x-amzn-errortype': error.code,
  });
}

async function handleLambda(account: ControlPlaneAccount, path: string, body: Buffer, res: ServerResponse, calls: string[]): Promise<void> {
  if (path === '/2016-08-19/account-settings' || path === '/2016-08-19/account-settings/') {
    calls.push('GetAccountSettings');
    const error = account.errors.GetAccountSettings;
    if (error !== undefined) return lambdaError(res, error);
    const { limit, unreserved } = account.concurrency;
    return send(
      res,
      200,
      'application/json',
      JSON.stringify({
        AccountLimit: {
          TotalCodeSize: 80530636800,
          CodeSizeUnzipped: 262144000,
          CodeSizeZipped: 52428800,
          ConcurrentExecutions: limit,
          UnreservedConcurrentExecutions: unreserved,
        },
        AccountUsage: { TotalCodeSize: 0, FunctionCount: 0 },
      }),
    );
  }
  const concurrency = /^\/2019-09-30\/functions\/([^/]+)\/concurrency$/.exec(path);
  if (concurrency !== null) {
    calls.push('GetFunctionConcurrency');
    const error = account.errors.GetFunctionConcurrency;
    if (error !== undefined) return lambdaError(res, error);
    const reserved = account.reservations[decodeURIComponent(concurrency[1]!)];
    return send(res, 200, 'application/json', JSON.stringify(reserved === undefined ? {} : { ReservedConcurrentExecutions: reserved }));
  }
  const invoke = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(path);
  if (invoke === null) return lambdaError(res, { status: 404, code: 'UnknownOperationException', message: `no route ${path}` });
  calls.push('Invoke');
  const error = account.errors.Invoke;
  if (error !== undefined) return lambdaError(res, error);
  const name = decodeURIComponent(invoke[1]!);
  const fn = account.functions[name];
  if (fn === undefined) return lambdaError(res, { status: 404, code: 'ResourceNotFoundException', message: `Function not found: ${name}` });
  const headers = { 'x-amz-executed-version': '$LATEST' };
  try {
    const result = await fn(body.length === 0 ? {} : JSON.parse(body.toString('utf8')));
    send(res, 200, 'application/json', JSON.stringify(result ?? null), headers);
  } catch (thrown) {
    const e = thrown as Error;
    send(
      res,
      200,
      'application/json',
      JSON.stringify({ errorType: e?.name ?? 'Error', errorMessage: e?.message ?? String(thrown), trace: [] }),
      {
        ...headers,
        'x-amz-function-error': 'Unhandled',
      },
    );
  }
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Starts the stub on a free local port. */
export async function startControlPlaneStub(account: ControlPlaneAccount = healthyAccount()): Promise<ControlPlaneStub> {
  const calls: string[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const path = new URL(req.url ?? '/', 'http://localhost').pathname;
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string' && target.startsWith('ServiceQuotasV20190624.')) {
        const operation = target.slice(target.indexOf('.') + 1);
        calls.push(operation);
        const out = handleServiceQuotas(account, operation, body.length === 0 ? {} : JSON.parse(body.toString('utf8')));
        return send(res, out.status, 'application/x-amz-json-1.1', JSON.stringify(out.body));
      }
      if (/^\/20(15-03-31|16-08-19|19-09-30)\//.test(path)) return await handleLambda(account, path, body, res, calls);
      const params = new URLSearchParams(body.toString('utf8'));
      const action = params.get('Action') ?? '';
      calls.push(action);
      const out = handleQuery(account, action, params);
      send(res, out.status, 'text/xml', out.body);
    })().catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', String(error));
      else res.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    endpoint,
    account,
    calls,
    env: {
      AWS_ENDPOINT_URL_RDS: endpoint,
      AWS_ENDPOINT_URL_EC2: endpoint,
      AWS_ENDPOINT_URL_SERVICE_QUOTAS: endpoint,
      AWS_ENDPOINT_URL_CLOUDFORMATION: endpoint,
      AWS_ENDPOINT_URL_LAMBDA: endpoint,
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
