// Lambda configuration: read once per cold start from the environment, validated, failing with
// the variable's name. The only switch to local services is the AWS SDK's own variables.

import * as z from 'zod';
import { SegmentationError } from '../shared/errors.ts';
import { SERVICE_NAME } from '../shared/metrics.ts';

/** A missing or malformed environment variable: the deployment is wrong, not the data. */
export class ConfigError extends SegmentationError {}

const boolean = (fallback: boolean) =>
  z
    .enum(['true', 'false', 'TRUE', 'FALSE', '1', '0'])
    .optional()
    .transform((v) => (v === undefined ? fallback : v === 'true' || v === 'TRUE' || v === '1'));

const EnvSchema = z.object({
  DATA_BUCKET: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  DB_CLUSTER_ARN: z.string().startsWith('arn:', 'must be an ARN'),
  DB_SECRET_ARN: z.string().startsWith('arn:', 'must be an ARN'),
  DB_NAME: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, 'must be a database name'),
  AUTO_PROMOTE: boolean(true),
  LOG_LEVEL: z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL']).default('INFO'),
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default(SERVICE_NAME),
  S3_FORCE_PATH_STYLE: boolean(false),
});

export type Config = z.infer<typeof EnvSchema>;

/** What the migration custom resource reads: the database and the log level only. */
const MigrateEnvSchema = EnvSchema.pick({ DB_CLUSTER_ARN: true, DB_SECRET_ARN: true, DB_NAME: true, LOG_LEVEL: true });
export type MigrateConfig = z.infer<typeof MigrateEnvSchema>;

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the environment against a schema; the error names every variable that is missing or wrong. */
function parseEnv<S extends z.ZodType>(schema: S, env: Env): z.infer<S> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.')} ${env[String(i.path[0])] === undefined ? 'is not set' : i.message}`);
  throw new ConfigError(`configuration: ${problems.join('; ')}`);
}

/** The functions' configuration. */
export function loadConfig(env: Env = process.env): Config {
  return parseEnv(EnvSchema, env);
}

/** The migration custom resource's configuration. */
export function loadMigrateConfig(env: Env = process.env): MigrateConfig {
  return parseEnv(MigrateEnvSchema, env);
}
