// Bounded retries with exponential backoff and full jitter, for transient AWS errors the SDK does
// not retry by itself (an auto-paused Aurora cluster resuming) or gives up on too early.

export interface RetryOptions {
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly retryable: (error: unknown) => boolean;
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Gives up once the next wait would end later than this many ms after the first try. @default no limit */
  readonly maxElapsedMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
  readonly now?: () => number;
}

const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `work`, retrying retryable failures up to `attempts` tries in all; rethrows the last error. */
export async function withRetry<T>(work: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? realSleep;
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const started = now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= options.attempts || !options.retryable(error)) throw error;
      const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** (attempt - 1));
      const delay = Math.round(ceiling / 2 + (random() * ceiling) / 2);
      if (options.maxElapsedMs !== undefined && now() + delay - started > options.maxElapsedMs) throw error;
      options.onRetry?.(error, attempt, delay);
      await sleep(delay);
    }
  }
}

/** Error names of the RDS Data API worth another try: the cluster resuming, throttling, a blip. */
const TRANSIENT_DATA_API_ERRORS = new Set([
  'DatabaseResumingException',
  'DatabaseUnavailableException',
  'ThrottlingException',
  'TooManyRequestsException',
  'ServiceUnavailableError',
  'InternalServerErrorException',
]);

export const isTransientDataApiError = (error: unknown): boolean => TRANSIENT_DATA_API_ERRORS.has((error as { name?: string })?.name ?? '');

/**
 * What a cluster created minutes ago can answer for a while (its HTTP endpoint or instance not
 * ready yet), besides the transient errors: worth waiting for on a first deploy, nowhere else.
 */
const CLUSTER_STARTING_ERRORS = new Set(['HttpEndpointNotEnabledException', 'InvalidResourceStateException']);

export const isClusterStartingError = (error: unknown): boolean =>
  isTransientDataApiError(error) || CLUSTER_STARTING_ERRORS.has((error as { name?: string })?.name ?? '');
