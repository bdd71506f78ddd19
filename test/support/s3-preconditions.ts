// A precondition-aware HTTP layer in front of s3rver for the tests. s3rver ignores If-Match and
// If-None-Match on PUT and If-Match on GET, so every conditional write would "win"; this layer
// answers those conditions the way S3 does and passes every other request through unchanged.
//
// S3's behaviour, as documented (Amazon S3 User Guide, "How to prevent object overwrites with
// conditional writes", https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html,
// and the If-Match / If-None-Match request headers of PutObject, GetObject and HeadObject in the
// Amazon S3 API Reference):
// - PutObject `If-None-Match: *` writes only when no object has the key; otherwise
//   412 PreconditionFailed. The header takes only `*`.
// - PutObject `If-Match: <etag>` writes only when the current object's ETag matches; otherwise
//   412 PreconditionFailed; with no current object under the key, 404 NoSuchKey.
// - GetObject / HeadObject `If-Match: <etag>` return the object only when its ETag matches;
//   otherwise 412 PreconditionFailed.
// - Two conditional writes racing on one key: one wins; S3 may answer the other 409
//   ConditionalRequestConflict. Here writes to a key are serialised, so the loser sees the
//   winner's object and gets 412 (a caller must treat both as "lost").
// CompleteMultipartUpload and CopyObject take the same two headers on the destination; they are
// evaluated the same way. A conditional header on any other request is refused with 501, never
// silently ignored.

import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { finished } from 'node:stream/promises';

export interface PreconditionLayer {
  /** Where clients send requests (the SDK's endpoint). */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Headers that concern one connection, not the request (and are never part of a SigV4 signature). */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'expect', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-connection']);

/** Query parameters that leave a request a plain object read or write (the SDK adds `x-id`). */
const isPlainQuery = (name: string): boolean => name === 'x-id' || name.startsWith('response-');

/** Runs work for one key at a time, in arrival order. */
class KeyedQueue {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const tail = previous.then(() => new Promise<void>((resolve) => (release = resolve)));
    this.tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

/** An ETag without quotes or weakness marker. */
const bareEtag = (tag: string): string =>
  tag
    .trim()
    .replace(/^W\//, '')
    .replace(/^"(.*)"$/, '$1');

/** Whether an If-Match value (`*`, or one or more ETags) admits the current ETag. */
function ifMatchAdmits(condition: string, current: string): boolean {
  return condition.split(',').some((tag) => tag.trim() === '*' || bareEtag(tag) === bareEtag(current));
}

interface Refusal {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly detail: Record<string, string>;
}

const preconditionFailed = (condition: string): Refusal => ({
  status: 412,
  code: 'PreconditionFailed',
  message: 'At least one of the pre-conditions you specified did not hold',
  detail: { Condition: condition },
});

/** S3's answer to a conditional write given the key's current ETag (null: no object), or undefined to write. */
function judgeWrite(
  ifMatch: string | undefined,
  ifNoneMatch: string | undefined,
  current: string | null,
  key: string,
): Refusal | undefined {
  if (ifNoneMatch !== undefined) {
    if (ifNoneMatch.trim() !== '*') {
      return {
        status: 501,
        code: 'NotImplemented',
        message: 'A header you provided implies functionality that is not implemented',
        detail: { Header: 'If-None-Match' },
      };
    }
    if (current !== null) return preconditionFailed('If-None-Match');
  }
  if (ifMatch !== undefined) {
    if (current === null) return { status: 404, code: 'NoSuchKey', message: 'The specified key does not exist.', detail: { Key: key } };
    if (!ifMatchAdmits(ifMatch, current)) return preconditionFailed('If-Match');
  }
  return undefined;
}

const xmlText = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

let requestCounter = 0;

/** Answers with an error in S3's XML format (no body for HEAD, as S3). */
function refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal): void {
  const requestId = `PRECONDITION${String(++requestCounter).padStart(8, '0')}`;
  const detail = Object.entries(refusal.detail)
    .map(([name, value]) => `<${name}>${xmlText(value)}</${name}>`)
    .join('');
  const body =
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${refusal.code}</Code><Message>${xmlText(refusal.message)}</Message>` +
    `${detail}<RequestId>${requestId}</RequestId><HostId>${requestId}</HostId></Error>`;
  res.writeHead(refusal.status, {
    'content-type': 'application/xml',
    'content-length': Buffer.byteLength(body),
    'x-amz-request-id': requestId,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

function forwardable(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

/**
 * Starts the layer on a free local port in front of `upstream` (s3rver's endpoint). Requests are
 * forwarded with their headers as signed (Host included), so s3rver checks the client's signature.
 */
export async function startPreconditionLayer(upstream: string): Promise<PreconditionLayer> {
  const target = new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  const writes = new KeyedQueue();

  function send(method: string, path: string, headers: IncomingHttpHeaders, body?: IncomingMessage): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const out = httpRequest({ host: target.hostname, port: target.port, method, path, headers, agent }, resolve);
      out.on('error', reject);
      if (body === undefined) out.end();
      else body.pipe(out);
    });
  }

  async function relay(from: IncomingMessage, res: ServerResponse): Promise<void> {
    res.writeHead(from.statusCode ?? 502, forwardable(from.headers));
    from.pipe(res);
    await finished(res);
  }

  /** The current ETag of the object at `path`, or null when there is none (an anonymous HEAD on s3rver). */
  async function currentEtag(path: string, host: string | undefined): Promise<string | null> {
    const head = await send('HEAD', path, host === undefined ? {} : { host });
    head.resume();
    if (head.statusCode === 404) return null;
    const etag = header(head.headers, 'etag');
    if (head.statusCode !== 200 || etag === undefined) throw new Error(`HEAD ${path} answered ${head.statusCode}`);
    return etag;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = req.url ?? '/';
    const queryAt = raw.indexOf('?');
    const path = queryAt < 0 ? raw : raw.slice(0, queryAt);
    const query = [...new URLSearchParams(queryAt < 0 ? '' : raw.slice(queryAt + 1)).keys()];
    const [, bucket = '', ...keyParts] = path.split('/');
    const key = keyParts.join('/');
    const onObject = bucket !== '' && key !== '';
    const plain = onObject && query.every(isPlainQuery);
    const completesUpload = onObject && req.method === 'POST' && query.includes('uploadId');
    const ifMatch = header(req.headers, 'if-match');
    const ifNoneMatch = header(req.headers, 'if-none-match');
    const headers = forwardable(req.headers);
    const method = req.method ?? 'GET';

    // writes that replace the object: one at a time per key, so a check and its write are atomic
    if ((plain && (method === 'PUT' || method === 'DELETE')) || completesUpload) {
      if (method === 'DELETE' && (ifMatch !== undefined || ifNoneMatch !== undefined)) {
        return refuse(req, res, {
          status: 501,
          code: 'NotImplemented',
          message: 'conditional DeleteObject is not implemented here',
          detail: {},
        });
      }
      await writes.run(path, async () => {
        if (ifMatch !== undefined || ifNoneMatch !== undefined) {
          const refusal = judgeWrite(ifMatch, ifNoneMatch, await currentEtag(path, header(req.headers, 'host')), decodeURIComponent(key));
          if (refusal !== undefined) {
            // read the body before answering, so the connection stays usable
            req.resume();
            await finished(req);
            return refuse(req, res, refusal);
          }
        }
        await relay(await send(method, raw, headers, req), res);
      });
      return;
    }
    const plainRead = plain && (method === 'GET' || method === 'HEAD');
    // S3 replaces an object atomically: a read sees the old object or the new one, never part of
    // one (S3 User Guide, "Amazon S3 data consistency model"). s3rver writes the file in place, so
    // a read could see it half written: reads of a key wait for its writes here.
    if (plainRead) {
      // the object is read whole under the key's lock and answered after it, so a slow reader
      // never holds the key
      const read = await writes.run(path, async () => {
        const answer = await send(method, raw, headers, req);
        const chunks: Buffer[] = [];
        for await (const chunk of answer) chunks.push(chunk as Buffer);
        return { answer, body: Buffer.concat(chunks) };
      });
      // with If-Match, the ETag S3 returns with the body is the one compared
      const etag = header(read.answer.headers, 'etag');
      const status = read.answer.statusCode ?? 502;
      if (ifMatch !== undefined && status < 300 && etag !== undefined && !ifMatchAdmits(ifMatch, etag)) {
        return refuse(req, res, preconditionFailed('If-Match'));
      }
      // s3rver answers If-None-Match on reads itself (304)
      res.writeHead(status, forwardable(read.answer.headers));
      res.end(method === 'HEAD' ? undefined : read.body);
      return;
    }
    // a condition anywhere else would be ignored by s3rver
    if (ifMatch !== undefined || ifNoneMatch !== undefined) {
      return refuse(req, res, {
        status: 501,
        code: 'NotImplemented',
        message: `conditional ${method} ${raw} is not implemented by the test precondition layer`,
        detail: {},
      });
    }
    await relay(await send(method, raw, headers, req), res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (res.headersSent) res.destroy(error as Error);
      else refuse(req, res, { status: 500, code: 'InternalError', message: String(error), detail: {} });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      agent.destroy();
    },
  };
}
