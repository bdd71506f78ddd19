// The project's error hierarchy. Each error says whether its message is safe to show a user;
// entry points (CLI exit path, handler outcome mapping) are the only places that print them.

/** Base class: `userFacing` messages are written for a person and may be shown verbatim. */
export class SegmentationError extends Error {
  readonly userFacing: boolean;
  constructor(message: string, options: { userFacing?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.userFacing = options.userFacing ?? true;
  }
}

/** A file that cannot be read as the CSV contract at all (empty, no header, missing column, not text). */
export class InvalidFileError extends SegmentationError {}

/** Options or configuration a user gave that cannot be honoured (k too large, unknown feature…). */
export class InvalidOptionError extends SegmentationError {}

/** A customer schema file that is not a valid schema; the message names the field (`features[2].weight`). */
export class SchemaError extends InvalidOptionError {}

/** Data that cannot be clustered as asked (NaN, fewer distinct rows than k, empty input). */
export class ClusteringError extends SegmentationError {}

/** A model artifact that is missing, of another schema version, or not a model at all. */
export class ModelError extends SegmentationError {}

/** Something named by the user that does not exist (a model version, a store). */
export class NotFoundError extends SegmentationError {}

/** Another run holds the lease (nightly assign). Not a failure: the other run does the work. */
export class LockHeldError extends SegmentationError {}

/** Other writers kept changing what this one meant to change (the active model): trying again may succeed. */
export class ConflictError extends SegmentationError {}

/** The one-line message a person may see for any thrown value. */
export function userMessage(error: unknown): string {
  if (error instanceof SegmentationError && error.userFacing) return error.message;
  return 'internal error (details in the log)';
}
