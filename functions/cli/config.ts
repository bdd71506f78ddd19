// The CLI's configuration from its environment, read once by the entry point and passed down.

/** What the environment tells the CLI. */
export interface CliConfig {
  /** `DATABASE_URL`: a PostgreSQL to use instead of the embedded server under the store. */
  readonly databaseUrl: string | undefined;
  /** `SEGMENTS_DEBUG`: print the stack of an unexpected error. */
  readonly debug: boolean;
}

/** Reads the CLI's variables; an empty value counts as unset. */
export function cliConfig(env: Readonly<Record<string, string | undefined>>): CliConfig {
  return {
    databaseUrl: env.DATABASE_URL || undefined,
    debug: Boolean(env.SEGMENTS_DEBUG),
  };
}
