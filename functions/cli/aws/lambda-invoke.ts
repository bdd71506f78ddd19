// Synchronous Lambda invocation for `segments smoke`: one attempt only (a retry after a timeout
// would run the function twice) and a read timeout longer than any function may run.

import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SegmentationError } from '../../../shared/errors.ts';
import { callAws } from './errors.ts';

/** Lambda's longest function timeout (15 minutes) and a minute to spare for a cold start. */
const INVOKE_READ_TIMEOUT_MS = 16 * 60 * 1000;
const CONNECT_TIMEOUT_MS = 10_000;

/** A Lambda client for long synchronous invocations: never retried, never cut short by a socket timeout. */
export function invokeClient(region: string): LambdaClient {
  return new LambdaClient({
    region,
    maxAttempts: 1,
    requestHandler: {
      connectionTimeout: CONNECT_TIMEOUT_MS,
      requestTimeout: INVOKE_READ_TIMEOUT_MS,
      socketTimeout: INVOKE_READ_TIMEOUT_MS,
    },
  });
}

/** The function ran and failed (an unhandled error, a timeout, out of memory): its own words, and where its log is. */
class FunctionFailedError extends SegmentationError {}

/** Invokes a function with RequestResponse and returns its parsed answer; a failure names `logGroup`, where its log is. */
export async function invokeJson(lambda: LambdaClient, functionName: string, payload: unknown, logGroup: string): Promise<unknown> {
  const out = await callAws({ name: `Lambda Invoke ${functionName}`, permission: 'lambda:InvokeFunction' }, () =>
    lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'RequestResponse',
        Payload: new TextEncoder().encode(JSON.stringify(payload)),
      }),
    ),
  );
  const text = out.Payload === undefined ? '' : new TextDecoder().decode(out.Payload);
  let answer: unknown = null;
  try {
    answer = text === '' ? null : JSON.parse(text);
  } catch {
    answer = text;
  }
  if (out.FunctionError !== undefined) {
    const { errorType, errorMessage } = (answer ?? {}) as { errorType?: string; errorMessage?: string };
    throw new FunctionFailedError(
      `${functionName} failed (${out.FunctionError}): ${errorType ?? 'Error'}: ${String(errorMessage ?? text).split('\n')[0]}; its log: aws logs tail ${logGroup} --since 30m`,
    );
  }
  return answer;
}
