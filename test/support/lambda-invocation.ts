// What Lambda hands a function besides the event, for tests that call the real handlers: the
// invocation context (the fields Powertools reads), and the JSON log lines the function writes.

import type { Context } from 'aws-lambda';
import { vi } from 'vitest';

/** The invocation context Lambda passes as the second argument. */
export function lambdaContext(functionName: string, awsRequestId: string, memoryLimitInMB = '1024'): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${functionName}`,
    memoryLimitInMB,
    awsRequestId,
    logGroupName: `${functionName}Logs`,
    logStreamName: '2026/11/27/[$LATEST]0123456789abcdef',
    getRemainingTimeInMillis: () => 300_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/**
 * JSON log lines the function writes from now on (Powertools writes to stdout and stderr, not
 * through console); `vi.restoreAllMocks()` stops the capture.
 */
export function captureLogs(): Array<Record<string, unknown>> {
  const lines: Array<Record<string, unknown>> = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    vi.spyOn(stream, 'write').mockImplementation((chunk: unknown, ...rest: unknown[]) => {
      for (const line of String(chunk).split('\n')) {
        if (line.startsWith('{')) lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
    });
  }
  return lines;
}
