// SCRAM-SHA-256 password verifiers as PostgreSQL stores them (RFC 5802 / RFC 7677): what the
// migration sends in `ALTER ROLE … PASSWORD`, so that no clear password appears in SQL text.

import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { InvalidOptionError } from '../../shared/errors.ts';

/** PostgreSQL's default (scram_iterations). */
const SCRAM_ITERATIONS = 4096;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** Printable ASCII: SASLprep leaves such a password unchanged, so the verifier matches the server's. */
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64. */
export function scramSha256Verifier(password: string, salt: Buffer = randomBytes(SALT_BYTES), iterations = SCRAM_ITERATIONS): string {
  if (!PRINTABLE_ASCII.test(password)) {
    throw new InvalidOptionError('a database password must be printable ASCII (Secrets Manager generates such passwords)');
  }
  const salted = pbkdf2Sync(password, salt, iterations, KEY_BYTES, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
