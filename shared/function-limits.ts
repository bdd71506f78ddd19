// Each Lambda function's memory and timeout, in one place: the stack (infra/) sizes the functions
// with them, and the code that must agree with a timeout reads them here (an upload's claim expires
// only after the run holding it must have ended). Pure constants.

export interface FunctionLimits {
  /** Lambda gives CPU in proportion to memory: 1,769 MB is one vCPU, 1,024 MB about 0.58. */
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
}

/**
 * Train: the k sweep and the restarts are CPU-bound and hold the training rows in memory, so 2,048
 * MB (about 1.2 vCPU); the 15-minute maximum for large tables.
 */
export const TRAIN_LIMITS: FunctionLimits = { memoryMb: 2048, timeoutSeconds: 15 * 60 };

/**
 * Ingest: one invocation streams an upload twice (the duplicate rule, then the rows to the table
 * and the results to S3). A single-threaded run uses at most one vCPU, so 1,769 MB, the size
 * that gives a whole one: the run's own CPU (parsing, labeling, the requests) is then not slowed
 * below what the machine gives it, where 1,024 MB (0.58 vCPU) would stretch it by 1.7. Memory: a
 * 10⁶-row upload grows the heap by under 512 MB (npm run bench), so 1,769 MB is ample. The
 * 15-minute maximum: 10⁶ rows take about 1 minute on the reference machine with 50 ms per Data API
 * call (npm run bench), so several million fit with room for Lambda's slower CPU; a run that still
 * times out is retried by Lambda with the same request id and resumes after its last stored batch.
 */
export const INGEST_LIMITS: FunctionLimits = { memoryMb: 1769, timeoutSeconds: 15 * 60 };

/**
 * Assign: PostgreSQL does the labeling (one UPDATE per bounded key range); the function mostly
 * waits on the Data API, so 512 MB, and 15 minutes for a large backlog after a promotion.
 */
export const ASSIGN_LIMITS: FunctionLimits = { memoryMb: 512, timeoutSeconds: 15 * 60 };

/**
 * How much longer than its function's timeout a run may still act: Lambda ends the invocation at
 * the timeout, and the Data API statement it last sent may run up to its own 45 s limit after that
 * (a margin on top).
 */
const AFTER_TIMEOUT_SECONDS = 60;

/** An upload's claim older than this belongs to a run that has ended: it may be taken over. */
export const claimStaleSeconds = (limits: FunctionLimits): number => limits.timeoutSeconds + AFTER_TIMEOUT_SECONDS;
