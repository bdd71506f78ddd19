// The functions' limits and what follows from them: a claim on an upload outlives the run that holds it.

import { describe, expect, it } from 'vitest';
import { ASSIGN_LIMITS, claimStaleSeconds, INGEST_LIMITS, TRAIN_LIMITS } from '../../shared/function-limits.ts';

/** The Data API's limit on one call: the last statement of a run ended at its timeout may run this long. */
const DATA_API_CALL_SECONDS = 45;
const LAMBDA_MAX_TIMEOUT_SECONDS = 15 * 60;
const LAMBDA_MAX_MEMORY_MB = 10_240;

describe('function limits', () => {
  it('keep every function within what Lambda allows', () => {
    for (const limits of [TRAIN_LIMITS, INGEST_LIMITS, ASSIGN_LIMITS]) {
      expect(limits.timeoutSeconds).toBeLessThanOrEqual(LAMBDA_MAX_TIMEOUT_SECONDS);
      expect(limits.memoryMb).toBeGreaterThanOrEqual(128);
      expect(limits.memoryMb).toBeLessThanOrEqual(LAMBDA_MAX_MEMORY_MB);
    }
  });

  it("let a claim expire only after its run's timeout and the last statement it may have sent", () => {
    for (const limits of [TRAIN_LIMITS, INGEST_LIMITS])
      expect(claimStaleSeconds(limits)).toBeGreaterThan(limits.timeoutSeconds + DATA_API_CALL_SECONDS);
  });
});
