// The few S3 operations `segments smoke` needs on the data bucket, each failure one line naming
// the call and its permission.

import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { isNoSuchKey } from '../../adapters/s3-model-store.ts';
import { callAws } from './errors.ts';

export class Bucket {
  constructor(
    readonly s3: S3Client,
    readonly name: string,
  ) {}

  /** The object's text, or null when there is no such key. */
  async getText(key: string): Promise<string | null> {
    try {
      const out = await callAws({ name: `S3 GetObject s3://${this.name}/${key}`, permission: 's3:GetObject' }, () =>
        this.s3.send(new GetObjectCommand({ Bucket: this.name, Key: key })),
      );
      return await out.Body!.transformToString('utf8');
    } catch (error) {
      if (isNoSuchKey((error as Error).cause)) return null;
      throw error;
    }
  }

  async exists(key: string): Promise<boolean> {
    try {
      await callAws({ name: `S3 HeadObject s3://${this.name}/${key}`, permission: 's3:GetObject' }, () =>
        this.s3.send(new HeadObjectCommand({ Bucket: this.name, Key: key })),
      );
      return true;
    } catch (error) {
      if (isNoSuchKey((error as Error).cause)) return false;
      throw error;
    }
  }

  /** Writes the text; returns the object's ETag (without quotes). */
  async putText(key: string, text: string, contentType: string): Promise<string> {
    const out = await callAws({ name: `S3 PutObject s3://${this.name}/${key}`, permission: 's3:PutObject' }, () =>
      this.s3.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: text, ContentType: contentType })),
    );
    return (out.ETag ?? '').replace(/"/g, '');
  }

  async keys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
      const page = await callAws({ name: `S3 ListObjectsV2 s3://${this.name}/${prefix}`, permission: 's3:ListBucket' }, () =>
        this.s3.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, ContinuationToken: token })),
      );
      for (const o of page.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
      token = page.NextContinuationToken;
    } while (token);
    return keys;
  }

  async delete(key: string): Promise<void> {
    await callAws({ name: `S3 DeleteObject s3://${this.name}/${key}`, permission: 's3:DeleteObject' }, () =>
      this.s3.send(new DeleteObjectCommand({ Bucket: this.name, Key: key })),
    );
  }

  /** Deletes the keys, and every key under the prefixes; returns how many objects were deleted. */
  async deleteAll(keys: readonly string[], prefixes: readonly string[]): Promise<number> {
    const found = new Set<string>();
    for (const key of keys) if (await this.exists(key)) found.add(key);
    for (const prefix of prefixes) for (const key of await this.keys(prefix)) found.add(key);
    for (const key of found) await this.delete(key);
    return found.size;
  }
}
