// functions/adapters/deployed-schema.ts: built by esbuild with the bundling a function of the stack
// gets (functionBundling, the schema's define included), it returns the schema the synth was given,
// validated; run from source it returns the mall's; a bundle carrying a schema that does not
// validate fails at its first use as a configuration error.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { DEPLOYED_SCHEMA_GLOBAL, deployedSchema, schemaSha256 } from '../../functions/adapters/deployed-schema.ts';
import { functionBundling, PROJECT_ROOT } from '../../infra/constructs/segmentation-function.ts';
import { MALL_SCHEMA, parseCustomerSchema, type CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { wholesaleSchemaJson } from './schemas.ts';

const outdir = mkdtempSync(join(tmpdir(), 'segments-deployed-schema-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

type DeployedSchemaModule = { deployedSchema(): CustomerSchema; schemaSha256(schema: CustomerSchema): string };

/** deployed-schema.ts as esbuild bundles it for a function (ESM, minified, the banner), with `define`; imported. */
async function bundled(name: string, define: Record<string, string>): Promise<DeployedSchemaModule> {
  const options = functionBundling(MALL_SCHEMA);
  const outfile = join(outdir, `${name}.mjs`);
  await build({
    entryPoints: [join(PROJECT_ROOT, 'functions/adapters/deployed-schema.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: options.target,
    minify: options.minify,
    keepNames: options.keepNames,
    mainFields: options.mainFields,
    banner: { js: options.banner! },
    define,
    logLevel: 'silent',
  });
  return (await import(pathToFileURL(outfile).href)) as DeployedSchemaModule;
}

describe('deployedSchema', () => {
  it("is the mall's schema when the code runs from source (nothing embedded)", () => {
    expect(deployedSchema()).toBe(MALL_SCHEMA);
  });

  it('returns the schema the function was bundled with, validated, once per cold start', async () => {
    const wholesale = parseCustomerSchema(wholesaleSchemaJson(), 'wholesale.json');
    const module = await bundled('wholesale', functionBundling(wholesale).define!);
    const schema = module.deployedSchema();
    expect(schema).toEqual(wholesale);
    expect(module.deployedSchema()).toBe(schema);
    expect(module.schemaSha256(schema)).toBe(schemaSha256(wholesale));
  });

  it('fails as a configuration error, naming the field, when the embedded schema does not validate', async () => {
    const bad = wholesaleSchemaJson();
    bad.features[8]!.weight = 0;
    const module = await bundled('bad', { [DEPLOYED_SCHEMA_GLOBAL]: JSON.stringify(JSON.stringify(bad)) });
    let error: Error | undefined;
    try {
      module.deployedSchema();
    } catch (e) {
      error = e as Error;
    }
    // (the class name itself is minified away in a bundle: the message says what it is)
    expect(error?.message).toBe(
      'configuration: deployed customer schema: features[8].weight: must be greater than 0 (redeploy with a valid -c schema)',
    );
  });
});
