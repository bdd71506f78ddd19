// The customer schema a deployment was synthesized with (`cdk deploy -c schema=…`), embedded in
// each function's bundle at build time and validated again on the first call of a cold start.
// Run from source (tests, tsx), a module has none embedded and the mall's schema is deployed.

import { canonicalJson, sha256 } from '../../shared/model/artifact.ts';
import { MALL_SCHEMA, parseCustomerSchema, type CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { ConfigError } from '../config.ts';

/**
 * The global that esbuild's `define` replaces with the schema's canonical JSON text (a string
 * literal) when infra/constructs/segmentation-function.ts bundles a function; that file says why a
 * define and not an environment variable.
 */
export const DEPLOYED_SCHEMA_GLOBAL = '__SEGMENTS_CUSTOMER_SCHEMA__';

// esbuild substitutes the identifier, `typeof` included; unbundled, `typeof` of an undeclared name is 'undefined'
declare const __SEGMENTS_CUSTOMER_SCHEMA__: string | undefined;

/** The schema as it is embedded and hashed: canonical JSON (keys sorted), defaults filled in. */
export function canonicalSchemaJson(schema: CustomerSchema): string {
  return canonicalJson(schema);
}

/**
 * SHA-256 (hex) of the schema's canonical JSON: the same for any file that validates to the same
 * schema (key order, white space and spelled-out defaults do not count), different otherwise.
 */
export function schemaSha256(schema: CustomerSchema): string {
  return sha256(canonicalSchemaJson(schema));
}

/** The bundling `define` that embeds `schema` (esbuild takes the value as JS source: a string literal here). */
export function schemaDefine(schema: CustomerSchema): Record<string, string> {
  return { [DEPLOYED_SCHEMA_GLOBAL]: JSON.stringify(canonicalSchemaJson(schema)) };
}

let cached: CustomerSchema | undefined;

/**
 * The deployed customer schema: the embedded one, validated (once per cold start), or MALL_SCHEMA
 * when the code runs unbundled. The synth validated it with this same code, so a failure here is a
 * deployment fault, not a data problem: a ConfigError, which fails the invocation (retries, alarm).
 */
export function deployedSchema(): CustomerSchema {
  if (cached !== undefined) return cached;
  const embedded = typeof __SEGMENTS_CUSTOMER_SCHEMA__ === 'string' ? __SEGMENTS_CUSTOMER_SCHEMA__ : undefined;
  if (embedded === undefined) return (cached = MALL_SCHEMA);
  try {
    cached = parseCustomerSchema(JSON.parse(embedded), 'deployed customer schema');
  } catch (error) {
    throw new ConfigError(`configuration: ${(error as Error).message} (redeploy with a valid -c schema)`, { cause: error });
  }
  return cached;
}
