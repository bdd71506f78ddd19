// The data bucket (uploads, models, results; layout in design.md "Storage layout") and its access
// log bucket: private, encrypted, TLS only, versioned, old results and old versions expire.

import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct, type IConstruct } from 'constructs';
import { RESULTS_PREFIX } from '../../shared/storage-layout.ts';
import { acknowledgeWildcardResource, arnInFinding } from '../nag.ts';

export interface DataBucketProps {
  /** Keep both buckets (and their objects) when the stack is deleted. @default true */
  readonly retainData?: boolean;
  /** Days a result file (labeled.csv, rejects.csv, summary.json) is kept. @default 90 */
  readonly resultsRetentionDays?: number;
  /** Days an overwritten or deleted object version is kept. @default 30 */
  readonly noncurrentVersionRetentionDays?: number;
  /** Days server access logs are kept. @default 90 */
  readonly accessLogRetentionDays?: number;
}

const DEFAULT_RESULTS_DAYS = 90;
const DEFAULT_NONCURRENT_DAYS = 30;
const DEFAULT_ACCESS_LOG_DAYS = 90;
const ABORT_MULTIPART_DAYS = 7;
/** Construct id of the BucketNotifications resource under an s3.Bucket (fixed in aws-cdk-lib). */
const NOTIFICATIONS_ID = 'Notifications';

export type ObjectAccess = 's3:GetObject' | 's3:PutObject' | 's3:AbortMultipartUpload' | 's3:DeleteObject';

export class DataBucket extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: DataBucketProps = {}) {
    super(scope, id);
    const retain = props.retainData ?? true;
    const removal = retain ? { removalPolicy: RemovalPolicy.RETAIN } : { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true };
    const common = {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      ...removal,
    } as const;

    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      ...common,
      // server access log delivery supports SSE-S3 only
      encryption: s3.BucketEncryption.S3_MANAGED,
      lifecycleRules: [{ id: 'ExpireAccessLogs', expiration: Duration.days(props.accessLogRetentionDays ?? DEFAULT_ACCESS_LOG_DAYS) }],
    });
    Validations.of(this.accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access log bucket of the data bucket; logging its own access would recurse.',
    });

    this.bucket = new s3.Bucket(this, 'Bucket', {
      ...common,
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        {
          id: 'ExpireOldResults',
          prefix: RESULTS_PREFIX,
          expiration: Duration.days(props.resultsRetentionDays ?? DEFAULT_RESULTS_DAYS),
        },
        {
          id: 'ExpireNoncurrentVersions',
          noncurrentVersionExpiration: Duration.days(props.noncurrentVersionRetentionDays ?? DEFAULT_NONCURRENT_DAYS),
          abortIncompleteMultipartUploadAfter: Duration.days(ABORT_MULTIPART_DAYS),
        },
      ],
    });
  }

  /** ARN pattern of the objects under a prefix, e.g. `models/` → `arn:…:bucket/models/*`. */
  objectsArn(prefix: string): string {
    return this.bucket.arnForObjects(`${prefix}*`);
  }

  /** Grants object actions on one prefix only. */
  grantObjects(grantee: iam.IGrantable, prefix: string, actions: readonly ObjectAccess[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...actions], resources: [this.objectsArn(prefix)] }));
    acknowledgeWildcardResource(
      grantee.grantPrincipal,
      `${arnInFinding(this.bucket)}/${prefix}*`,
      `Object actions limited to the ${prefix} prefix of the data bucket; an object ARN pattern for a prefix necessarily ends in a wildcard.`,
    );
  }

  /**
   * Grants listing restricted to the given prefixes. Besides `ListObjectsV2` on those prefixes, it
   * makes S3 answer a GET of a missing key there with 404 (NoSuchKey) instead of 403, which is how
   * the functions tell "no active model yet" from a failure.
   */
  grantListPrefixes(grantee: iam.IGrantable, prefixes: readonly string[]): void {
    grantee.grantPrincipal.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
      }),
    );
  }

  /**
   * The custom resource that configures the bucket's notifications (created by the first
   * `notifyOnUpload`), so that the stack can order it after other resources; none before.
   */
  notifications(): IConstruct | undefined {
    return this.bucket.node.tryFindChild(NOTIFICATIONS_ID);
  }

  /** Invokes `fn` (asynchronously) for every object created under `prefix` whose key ends in `suffix`. */
  notifyOnUpload(prefix: string, suffix: string, fn: lambda.IFunction): void {
    this.bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(fn), { prefix, suffix });
  }
}
