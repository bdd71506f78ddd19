// ModelStore on the data bucket: models/<version>/model.json and report.html, models/active.json.
// A single PUT is atomic in S3, and active.json is written only after the model it names.

import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, type S3ServiceException } from '@aws-sdk/client-s3';
import { NotFoundError } from '../../shared/errors.ts';
import {
  canonicalJson,
  ModelVersionSchema,
  parseActivePointer,
  parseModel,
  serializeModel,
  type ActivePointer,
  type Model,
} from '../../shared/model/artifact.ts';
import type { ModelStore } from '../../shared/ports.ts';
import { ACTIVE_MODEL_KEY, MODELS_PREFIX } from '../../shared/storage-layout.ts';

const PRECONDITION_FAILED = 412;
const CONFLICT = 409;

export const isNoSuchKey = (error: unknown): boolean =>
  (error as S3ServiceException)?.name === 'NoSuchKey' || (error as S3ServiceException)?.$metadata?.httpStatusCode === 404;

export class S3ModelStore implements ModelStore {
  constructor(
    private readonly bucket: string,
    private readonly s3: S3Client = new S3Client({}),
  ) {}

  private uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  private async getText(key: string): Promise<string | null> {
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await object.Body!.transformToString('utf8');
    } catch (error) {
      if (isNoSuchKey(error)) return null;
      throw error;
    }
  }

  private async put(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async putModel(model: Model): Promise<{ modelUri: string }> {
    const key = `${MODELS_PREFIX}${model.modelVersion}/model.json`;
    await this.put(key, serializeModel(model), 'application/json');
    return { modelUri: this.uri(key) };
  }

  async putReport(modelVersion: string, html: string): Promise<string> {
    const key = `${MODELS_PREFIX}${modelVersion}/report.html`;
    await this.put(key, html, 'text/html; charset=utf-8');
    return this.uri(key);
  }

  async getModel(version: string): Promise<Model> {
    if (!ModelVersionSchema.safeParse(version).success) throw new NotFoundError(`"${version}" is not a model version`);
    const key = `${MODELS_PREFIX}${version}/model.json`;
    const text = await this.getText(key);
    if (text === null) throw new NotFoundError(`model ${version} is not in s3://${this.bucket}/${MODELS_PREFIX}`);
    return parseModel(text, this.uri(key));
  }

  async getActive(): Promise<ActivePointer | null> {
    const text = await this.getText(ACTIVE_MODEL_KEY);
    return text === null ? null : parseActivePointer(text, this.uri(ACTIVE_MODEL_KEY));
  }

  /** Compare-and-swap with S3 conditional writes: If-Match on the ETag read, If-None-Match when absent. */
  async swapActive(expected: ActivePointer | null, next: ActivePointer): Promise<boolean> {
    let current: ActivePointer | null = null;
    let etag: string | undefined;
    try {
      const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: ACTIVE_MODEL_KEY }));
      current = parseActivePointer(await object.Body!.transformToString('utf8'), this.uri(ACTIVE_MODEL_KEY));
      etag = object.ETag;
    } catch (error) {
      if (!isNoSuchKey(error)) throw error;
    }
    if (canonicalJson(current) !== canonicalJson(expected)) return false;
    try {
      await this.s3.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: ACTIVE_MODEL_KEY,
          Body: `${JSON.stringify(next, null, 2)}\n`,
          ContentType: 'application/json',
          ...(etag === undefined ? { IfNoneMatch: '*' } : { IfMatch: etag }),
        }),
      );
      return true;
    } catch (error) {
      const status = (error as S3ServiceException)?.$metadata?.httpStatusCode;
      if (status === PRECONDITION_FAILED || status === CONFLICT) return false;
      throw error;
    }
  }

  async listModels(): Promise<string[]> {
    const versions: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: MODELS_PREFIX, Delimiter: '/', ContinuationToken: token }),
      );
      for (const p of page.CommonPrefixes ?? []) {
        const version = p.Prefix?.slice(MODELS_PREFIX.length, -1) ?? '';
        if (ModelVersionSchema.safeParse(version).success) versions.push(version);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return versions.sort();
  }
}
