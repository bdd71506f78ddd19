// The database roles the deployment creates besides the master user: the application role the
// functions connect as (only the DML they need, on the project's tables) and a read-only role for
// analysts and downstream tools. Statements as data, sent by the migration as the master user.

import type { SqlClient } from '../ports.ts';
import { InvalidOptionError } from '../errors.ts';

type TablePrivilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

/** What one role may do: privileges per table, and the sequences it may draw from. */
export interface RoleGrants {
  readonly tables: Readonly<Record<string, readonly TablePrivilege[]>>;
  readonly sequences: readonly string[];
}

/**
 * The functions (train, ingest, assign): upsert and label customers, record training members and
 * runs, keep the ingest ledger and the lease, and a table training's scratch copies. No DDL, no DELETE of customers, nothing on
 * schema_migrations.
 */
export const APP_GRANTS: RoleGrants = {
  tables: {
    customers: ['SELECT', 'INSERT', 'UPDATE'],
    training_members: ['SELECT', 'INSERT'],
    runs: ['SELECT', 'INSERT'],
    ingested_objects: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    ingest_batches: ['SELECT', 'INSERT', 'DELETE'],
    training_snapshots: ['SELECT', 'INSERT', 'DELETE'],
    training_points: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
    locks: ['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
  },
  sequences: ['runs_id_seq'],
};

/** Analysts and downstream systems: read the labeled customers and the run history. */
export const READER_GRANTS: RoleGrants = {
  tables: { customers: ['SELECT'], runs: ['SELECT'], training_members: ['SELECT'] },
  sequences: [],
};

const ROLE_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
/** PostgreSQL's SCRAM-SHA-256 verifier: `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`. */
const SCRAM_VERIFIER = /^SCRAM-SHA-256\$\d{1,7}:[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}:[A-Za-z0-9+/]+={0,2}$/;

/** A strict identifier, double-quoted for SQL text (role and table names only come from here). */
function identifier(name: string, what: string): string {
  if (!ROLE_NAME.test(name)) throw new InvalidOptionError(`${what} "${name}" is not a valid PostgreSQL identifier`);
  return `"${name}"`;
}

/**
 * The statements that give an existing role its password and exactly `grants`. The password
 * travels only as a SCRAM-SHA-256 verifier (PostgreSQL's `PASSWORD` takes no parameter, so the
 * verifier is the literal; the clear password never reaches SQL text).
 */
export function roleStatements(username: string, passwordVerifier: string, grants: RoleGrants): string[] {
  const role = identifier(username, 'role name');
  if (!SCRAM_VERIFIER.test(passwordVerifier))
    throw new InvalidOptionError(`the password of role ${username} is not a SCRAM-SHA-256 verifier`);
  return [
    `ALTER ROLE ${role} WITH LOGIN PASSWORD '${passwordVerifier}'`,
    `REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}`,
    `REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM ${role}`,
    `GRANT USAGE ON SCHEMA public TO ${role}`,
    ...Object.entries(grants.tables).map(
      ([table, privileges]) => `GRANT ${privileges.join(', ')} ON TABLE ${identifier(table, 'table name')} TO ${role}`,
    ),
    ...grants.sequences.map((sequence) => `GRANT USAGE ON SEQUENCE ${identifier(sequence, 'sequence name')} TO ${role}`),
  ];
}

/** A verifier of the right form, for showing the statements without a password (the deploy fingerprint). */
export const EXAMPLE_VERIFIER = 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy';

/**
 * Creates the role when missing, sets its password and makes its privileges exactly `grants`, in
 * one transaction (`roleStatements`). Safe to run on every deploy.
 */
export async function ensureRole(sql: SqlClient, username: string, passwordVerifier: string, grants: RoleGrants): Promise<void> {
  const statements = roleStatements(username, passwordVerifier, grants);
  await sql.transaction(async (tx) => {
    const [existing] = await tx.query('SELECT CAST(count(*) AS integer) AS n FROM pg_roles WHERE rolname = CAST(:name AS text)', {
      name: username,
    });
    if (Number(existing?.n ?? 0) === 0) await tx.query(`CREATE ROLE ${identifier(username, 'role name')} LOGIN`);
    for (const statement of statements) await tx.query(statement);
  });
}
