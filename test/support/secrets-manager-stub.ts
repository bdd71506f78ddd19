// A local AWS Secrets Manager for tests: GetSecretValue over the service's awsJson1_1 protocol, to
// the unmodified @aws-sdk/client-secrets-manager, and the same secrets for the Data API emulator
// (which connects as the user a secret names, like the real service does).

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DatabaseSecretValue {
  readonly username: string;
  readonly password: string;
}

export interface SecretsManagerStub {
  /** `http://127.0.0.1:<port>`: the SDK's `endpoint` or AWS_ENDPOINT_URL_SECRETS_MANAGER. */
  readonly endpoint: string;
  /** Adds or replaces a secret: a generated password when none is given, like a new DatabaseSecret. */
  put(arn: string, value: { username: string; password?: string }): DatabaseSecretValue;
  /** The secret's value, for the Data API emulator's `resolveSecret`. */
  resolve(arn: string): Promise<DatabaseSecretValue | undefined>;
  /** GetSecretValue calls received, by ARN. */
  readonly reads: Map<string, number>;
  close(): Promise<void>;
}

const PASSWORD_BYTES = 24;
const TARGET_PREFIX = 'secretsmanager.';

function send(res: ServerResponse, status: number, body: unknown, errorType?: string): void {
  const text = JSON.stringify(errorType ? { __type: errorType, message: (body as { message: string }).message } : body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
}

/** Starts the stub on a free local port. */
export async function startSecretsManagerStub(): Promise<SecretsManagerStub> {
  const secrets = new Map<string, DatabaseSecretValue>();
  const reads = new Map<string, number>();
  const server = createServer((req, res) => {
    void (async () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const body = await readJson(req).catch(() => null);
      if (req.method !== 'POST' || body === null) return send(res, 400, { message: 'bad request' }, 'InvalidRequestException');
      if (target !== `${TARGET_PREFIX}GetSecretValue`) {
        return send(res, 400, { message: `operation ${target} is not supported by this stub` }, 'UnknownOperationException');
      }
      const id = String(body.SecretId ?? '');
      const secret = secrets.get(id);
      if (!secret) return send(res, 400, { message: "Secrets Manager can't find the specified secret." }, 'ResourceNotFoundException');
      reads.set(id, (reads.get(id) ?? 0) + 1);
      send(res, 200, {
        ARN: id,
        Name: id.split(':').pop(),
        SecretString: JSON.stringify({ ...secret, engine: 'postgres' }),
        VersionId: 'stub-version',
        VersionStages: ['AWSCURRENT'],
        CreatedDate: Math.floor(Date.now() / 1000),
      });
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    reads,
    put: (arn, value) => {
      const secret = { username: value.username, password: value.password ?? randomBytes(PASSWORD_BYTES).toString('base64url') };
      secrets.set(arn, secret);
      return secret;
    },
    resolve: async (arn) => secrets.get(arn),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
