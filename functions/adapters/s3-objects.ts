// Uploaded files on S3 (ObjectSource) and result files written to S3 (ResultWriter). Reads
// stream the object body; writes stream through a multipart upload, which S3 makes visible
// only when complete — never a half-written result.

import { DeleteObjectCommand, GetObjectCommand, S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import type { ObjectSource, OpenedObject, ResultName, ResultWriter } from '../../shared/ports.ts';
import { isNoSuchKey } from './s3-model-store.ts';

const CONTENT_TYPES: Record<ResultName, string> = {
  'labeled.csv': 'text/csv; charset=utf-8',
  'rejects.csv': 'text/csv; charset=utf-8',
  'summary.json': 'application/json',
};
const PRECONDITION_FAILED = 412;

export class S3ObjectSource implements ObjectSource {
  constructor(
    private readonly bucket: string,
    private readonly s3: S3Client = new S3Client({}),
  ) {}

  async open(key: string, etag?: string): Promise<OpenedObject | null> {
    try {
      const object = await this.s3.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, IfMatch: etag === undefined ? undefined : `"${etag.replace(/"/g, '')}"` }),
      );
      return { body: object.Body as AsyncIterable<Uint8Array>, etag: (object.ETag ?? etag ?? '').replace(/"/g, '') };
    } catch (error) {
      if (isNoSuchKey(error) || (error as S3ServiceException)?.$metadata?.httpStatusCode === PRECONDITION_FAILED) return null;
      throw error;
    }
  }
}

/**
 * Streams text to one key through a multipart upload (visible only once complete). When the
 * content fails while it streams, the upload is aborted and the content's own error is rethrown,
 * not what aborting answered (a failed abort would otherwise hide why the run failed).
 */
export async function putText(
  s3: S3Client,
  bucket: string,
  key: string,
  content: AsyncIterable<string> | string,
  contentType: string,
): Promise<string> {
  let failure: { readonly error: unknown } | undefined;
  const watched = async function* (source: AsyncIterable<string>): AsyncGenerator<string> {
    try {
      yield* source;
    } catch (error) {
      failure = { error };
      throw error;
    }
  };
  const body = typeof content === 'string' ? content : Readable.from(watched(content));
  try {
    await new Upload({ client: s3, params: { Bucket: bucket, Key: key, Body: body, ContentType: contentType } }).done();
  } catch (error) {
    throw failure === undefined ? error : failure.error;
  }
  return `s3://${bucket}/${key}`;
}

export class S3ResultWriter implements ResultWriter {
  constructor(
    private readonly bucket: string,
    /** Key prefix ending in `/`, e.g. `results/customers/batch 1/`. */
    private readonly prefix: string,
    private readonly s3: S3Client = new S3Client({}),
  ) {}

  write(name: ResultName, content: AsyncIterable<string> | string): Promise<string> {
    return putText(this.s3, this.bucket, `${this.prefix}${name}`, content, CONTENT_TYPES[name]);
  }

  async remove(name: ResultName): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: `${this.prefix}${name}` }));
  }
}
