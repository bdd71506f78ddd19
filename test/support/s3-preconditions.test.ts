// The precondition layer in front of s3rver answers conditional requests as S3 does (through the
// unmodified SDK), and the uploaded-file adapter relies on it: an upload replaced or deleted since
// its event is not opened.

import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectSource } from '../../functions/adapters/s3-objects.ts';
import { startS3, type TestS3 } from './s3-server.ts';

let s3: TestS3;
let bucket: string;
beforeAll(async () => {
  s3 = await startS3();
  bucket = `conditions-${String(Math.random()).slice(2, 10)}`;
  await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  await s3.close();
});

let keys = 0;
const freshKey = (): string => `objects/key ${++keys}.json`;
const put = async (key: string, body: string, condition: { IfMatch?: string; IfNoneMatch?: string } = {}): Promise<string> =>
  (await s3.client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...condition }))).ETag!;
const read = async (key: string): Promise<string> =>
  await (await s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
/** The error S3 answered, as the SDK parsed it. */
const failure = async (work: Promise<unknown>): Promise<{ name: string; status: number | undefined }> => {
  try {
    await work;
  } catch (error) {
    const e = error as S3ServiceException;
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('the request succeeded');
};
const text = async (body: AsyncIterable<Uint8Array>): Promise<string> => {
  const chunks: Uint8Array[] = [];
  for await (const chunk of body) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
};

describe('s3rver alone', () => {
  it('ignores If-None-Match on PUT: the reason for the layer', async () => {
    const direct = new S3Client({ forcePathStyle: true, endpoint: s3.upstream });
    const key = freshKey();
    await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'first', IfNoneMatch: '*' }));
    await direct.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'second', IfNoneMatch: '*' }));
    expect(await read(key)).toBe('second');
    direct.destroy();
  });
});

describe('the precondition layer in front of s3rver', () => {
  it('creates with If-None-Match: * only when the key is free; otherwise 412 PreconditionFailed and the object stays', async () => {
    const key = freshKey();
    await put(key, 'first', { IfNoneMatch: '*' });
    expect(await failure(put(key, 'second', { IfNoneMatch: '*' }))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await read(key)).toBe('first');
  });

  it('overwrites with If-Match only the ETag given; a stale ETag gets 412 and changes nothing', async () => {
    const key = freshKey();
    const first = await put(key, 'v1');
    const second = await put(key, 'v2', { IfMatch: first });
    expect(second).not.toBe(first);
    expect(await failure(put(key, 'v3', { IfMatch: first }))).toEqual({ name: 'PreconditionFailed', status: 412 });
    expect(await read(key)).toBe('v2');
    await put(key, 'v3', { IfMatch: second });
    expect(await read(key)).toBe('v3');
  });

  it('answers If-Match on a key with no object with 404 NoSuchKey, as S3 does', async () => {
    const key = freshKey();
    expect(await failure(put(key, 'v1', { IfMatch: '"0123456789abcdef0123456789abcdef"' }))).toEqual({ name: 'NoSuchKey', status: 404 });
    expect(await failure(read(key))).toMatchObject({ name: 'NoSuchKey' });
  });

  it('returns an object on GET with If-Match only while its ETag is the one given', async () => {
    const key = freshKey();
    const first = await put(key, 'v1');
    const get = (etag: string) => s3.client.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag }));
    expect(await (await get(first)).Body!.transformToString()).toBe('v1');
    await put(key, 'v2');
    expect(await failure(get(first))).toEqual({ name: 'PreconditionFailed', status: 412 });
  });

  it('lets exactly one of many simultaneous create-only PUTs through, and keeps its body', async () => {
    const key = freshKey();
    const bodies = Array.from({ length: 12 }, (_, i) => `writer ${i}`);
    const outcomes = await Promise.allSettled(bodies.map((body) => put(key, body, { IfNoneMatch: '*' })));
    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [bodies[i]!] : []));
    expect(won).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect((o.reason as S3ServiceException).$metadata.httpStatusCode).toBe(412);
    expect(await read(key)).toBe(won[0]);
  });

  it('lets exactly one of many simultaneous If-Match PUTs on the same ETag through', async () => {
    const key = freshKey();
    const base = await put(key, 'base');
    const bodies = Array.from({ length: 12 }, (_, i) => `writer ${i}`);
    const outcomes = await Promise.allSettled(bodies.map((body) => put(key, body, { IfMatch: base })));
    const won = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [bodies[i]!] : []));
    expect(won).toHaveLength(1);
    expect(await read(key)).toBe(won[0]);
  });

  it('passes other requests through unchanged: unconditional writes, listing, multipart uploads, deletes', async () => {
    const prefix = `plain ${++keys}/`;
    await put(`${prefix}a.txt`, 'one');
    await put(`${prefix}a.txt`, 'two');
    expect(await read(`${prefix}a.txt`)).toBe('two');
    // more than one 5 MiB part
    const large = 'x'.repeat(5 * 1024 * 1024 + 17);
    await new Upload({ client: s3.client, params: { Bucket: bucket, Key: `${prefix}large.txt`, Body: large } }).done();
    expect((await read(`${prefix}large.txt`)).length).toBe(large.length);
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    expect(listed.Contents?.map((c) => c.Key)).toEqual([`${prefix}a.txt`, `${prefix}large.txt`]);
    await s3.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${prefix}a.txt` }));
    expect(await failure(read(`${prefix}a.txt`))).toMatchObject({ name: 'NoSuchKey' });
  });

  it('replaces an object atomically: a read during a write sees the old object or the new one, whole', async () => {
    const key = freshKey();
    const old = 'a'.repeat(2 * 1024 * 1024);
    const next = 'b'.repeat(2 * 1024 * 1024);
    await put(key, old);
    const reads: Promise<string>[] = [];
    const writing = put(key, next);
    for (let i = 0; i < 8; i++) reads.push(read(key));
    await writing;
    for (const body of await Promise.all(reads)) expect(body === old || body === next).toBe(true);
    expect(await read(key)).toBe(next);
  });

  it('refuses a condition on a request it does not evaluate (501), rather than ignoring it', async () => {
    const key = freshKey();
    const response = await fetch(`${s3.endpoint}/${bucket}/${encodeURIComponent(key)}?partNumber=1&uploadId=u1`, {
      method: 'PUT',
      headers: { 'If-Match': '"abc"' },
      body: 'part',
    });
    expect(response.status).toBe(501);
    expect(await response.text()).toContain('<Code>NotImplemented</Code>');
  });
});

describe('S3ObjectSource.open(key, etag)', () => {
  // S3 events carry the ETag without quotes
  const eventEtag = (etag: string): string => etag.replace(/"/g, '');

  it('opens the version its event names', async () => {
    const key = freshKey();
    const etag = eventEtag(await put(key, 'customer_id\n1\n'));
    const opened = await new S3ObjectSource(bucket, s3.client).open(key, etag);
    expect(opened?.etag).toBe(etag);
    expect(await text(opened!.body)).toBe('customer_id\n1\n');
  });

  it('returns null when the upload was replaced since its event', async () => {
    const key = freshKey();
    const etag = eventEtag(await put(key, 'customer_id\n1\n'));
    await put(key, 'customer_id\n2\n');
    expect(await new S3ObjectSource(bucket, s3.client).open(key, etag)).toBeNull();
    // without an ETag it opens whatever is there now
    expect(await text((await new S3ObjectSource(bucket, s3.client).open(key))!.body)).toBe('customer_id\n2\n');
  });

  it('returns null when the upload was deleted since its event', async () => {
    const key = freshKey();
    const etag = eventEtag(await put(key, 'customer_id\n1\n'));
    await s3.client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    expect(await new S3ObjectSource(bucket, s3.client).open(key, etag)).toBeNull();
  });
});
