// Maps a workflow's failure to what a handler does with it: data problems a user can fix end in a
// failed summary (no retry); infrastructure failures are rethrown so Lambda retries and alarms.

import { ClusteringError, InvalidFileError, InvalidOptionError, ModelError, NotFoundError, userMessage } from '../shared/errors.ts';

const USER_FIXABLE = [InvalidFileError, InvalidOptionError, ClusteringError, ModelError, NotFoundError];

/** True when retrying cannot help: the input, options or model must change. */
function isUserFixable(error: unknown): boolean {
  return USER_FIXABLE.some((type) => error instanceof type);
}

/** Runs `work`; a user-fixable failure becomes `failed(message)`, anything else is rethrown. */
export async function reportDataProblems<T>(work: () => Promise<T>, failed: (message: string) => T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (isUserFixable(error)) return failed(userMessage(error));
    throw error;
  }
}
