// Bounded retries with exponential backoff and full jitter, for transient AWS errors the SDK does
// not retry by itself (an auto-paused Aurora cluster resuming) or gives up on too early.

export interface RetryOptions {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly retryable: (error: unknown) => boolean;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work`, retrying retryable failures up to `attempts` tries in all; rethrows the last error. */
export async function withRetry<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= options.attempts || !options.retryable(error)) throw error;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}

/** Error names of the RDS Data API worth another try: the cluster resuming, throttling, a blip. */
export const TRANSIENT_DATA_API_ERRORS = new Set([
  'DatabaseResumingException',
  'DatabaseUnavailableException',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailableError',
  'InternalServerErrorException',
]);

export const isTransientDataApiError = (error: unknown): boolean => TRANSIENT_DATA_API_ERRORS.has((error as { name?: string })?.name ?? '');
