// Reads a database user's credentials from Secrets Manager (the JSON secrets CDK's DatabaseSecret
// generates: {"username", "password", …}), for the migration that sets up the roles.

import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { ConfigError } from '../config.ts';

const DatabaseSecretSchema = z.object({ username: z.string().min(1), password: z.string().min(1) });
export type DatabaseCredentials = z.infer<typeof DatabaseSecretSchema>;

/** The username and password in the secret `secretArn`; a ConfigError names the secret when it has neither. */
export async function readDatabaseSecret(
  secretArn: string,
  client: SecretsManagerClient = new SecretsManagerClient({}),
): Promise<DatabaseCredentials> {
  const output = await client.send(new GetSecretValueCommand({ SecretId: secretArn }));
  let value: unknown;
  try {
    value = JSON.parse(output.SecretString ?? '');
  } catch {
    throw new ConfigError(`secret ${secretArn} is not a JSON database secret`);
  }
  const parsed = DatabaseSecretSchema.safeParse(value);
  if (!parsed.success) throw new ConfigError(`secret ${secretArn} has no username and password`);
  return parsed.data;
}
