// A failed AWS call as one line a person can act on: which call, and whether the credentials or a
// missing permission is the cause. Shared by `segments preflight` and `segments smoke`.

import { SegmentationError } from '../../../shared/errors.ts';

/** An AWS API call and the IAM permission it needs (they differ, e.g. Invoke needs lambda:InvokeFunction). */
export interface AwsCall {
  /** e.g. `RDS DescribeOrderableDBInstanceOptions` */
  readonly name: string;
  /** e.g. `rds:DescribeOrderableDBInstanceOptions` */
  readonly permission: string;
}

export type AwsFailureKind = 'credentials' | 'permission' | 'other';

/** Error codes of credentials that are missing, expired or not recognised, across the query, EC2 and JSON protocols. */
const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'UnrecognizedClientException',
  'AuthFailure',
  'SignatureDoesNotMatch',
  'InvalidAccessKeyId',
  'InvalidSignatureException',
  'TokenRefreshRequired',
]);

/** Error codes of an IAM denial: RDS and CloudFormation say AccessDenied, EC2 UnauthorizedOperation, JSON services AccessDeniedException. */
const PERMISSION_ERRORS = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'AuthorizationError', 'Forbidden']);
const HTTP_FORBIDDEN = 403;

interface SdkError {
  readonly name?: string;
  readonly message?: string;
  readonly Code?: string;
  readonly $metadata?: { readonly httpStatusCode?: number };
}

/** The error's code as AWS names it (the SDK puts it in `name`; query protocols also in `Code`). */
function awsErrorCode(error: unknown): string {
  const e = error as SdkError | undefined;
  return e?.Code ?? e?.name ?? 'Error';
}

function classifyAwsError(error: unknown): AwsFailureKind {
  const code = awsErrorCode(error);
  if (CREDENTIAL_ERRORS.has(code) || (error as SdkError)?.name === 'CredentialsProviderError') return 'credentials';
  if (PERMISSION_ERRORS.has(code) || (error as SdkError)?.$metadata?.httpStatusCode === HTTP_FORBIDDEN) return 'permission';
  return 'other';
}

const firstLine = (error: unknown): string => String((error as SdkError)?.message ?? error).split('\n')[0]!;

/** What went wrong with a call, and what to do about it. */
function awsFailure(call: AwsCall, error: unknown): { readonly message: string; readonly fix: string } {
  const code = awsErrorCode(error);
  switch (classifyAwsError(error)) {
    case 'credentials':
      return {
        message: `${call.name}: the AWS credentials are missing, expired or not valid (${code})`,
        fix: 'sign in again (aws sso login, aws configure, or AWS_PROFILE) and run again',
      };
    case 'permission':
      return { message: `${call.name} was denied (${code})`, fix: `allow ${call.permission} for the credentials in use` };
    default:
      return {
        message: `${call.name} failed: ${code}: ${firstLine(error)}`,
        fix: 'check the network, the region and the names given, then run again',
      };
  }
}

/** The one line for a failed call (no stack, no request dump). */
function awsFailureLine(call: AwsCall, error: unknown): string {
  const { message, fix } = awsFailure(call, error);
  return `${message}; ${fix}`;
}

/** A failed AWS call, its message already the one line to show. */
export class AwsCallError extends SegmentationError {
  readonly kind: AwsFailureKind;
  readonly code: string;
  /** The message without the fix, and the fix. */
  readonly problem: string;
  readonly fix: string;
  constructor(
    readonly call: AwsCall,
    cause: unknown,
  ) {
    super(awsFailureLine(call, cause), { cause });
    this.kind = classifyAwsError(cause);
    this.code = awsErrorCode(cause);
    ({ message: this.problem, fix: this.fix } = awsFailure(call, cause));
  }
}

/** Runs one AWS call; a failure becomes an AwsCallError naming the call and what it needs. */
export async function callAws<T>(call: AwsCall, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw new AwsCallError(call, error);
  }
}
