// Test helper: builds the app as `cdk synth` would (cdk.json's feature flags as context) into a
// temporary cloud assembly, by default without bundling or CloudFormation validation, for speed.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { createSegmentationApp, type SegmentationApp } from '../../infra/segmentation-app.ts';
import { PROJECT_ROOT } from '../../infra/constructs/segmentation-function.ts';

export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  return cdkJson.context;
}

export interface Synthesized extends SegmentationApp {
  readonly outdir: string;
  readonly assembly: CloudAssembly;
  readonly template: Template;
  /** The raw template, for walks over every resource. */
  readonly json: { Resources: Record<string, { Type: string; Properties?: Record<string, unknown>; Metadata?: Record<string, unknown> }> };
  /** The logical id of a construct's CloudFormation resource (its default child). */
  logicalId(construct: { node: { defaultChild?: unknown } }): string;
  remove(): void;
}

export interface SynthOptions {
  /** Run NodejsFunction bundling (local esbuild). @default false */
  readonly bundle?: boolean;
}

export function synth(context: Record<string, unknown> = {}, options: SynthOptions = {}): Synthesized {
  const outdir = mkdtempSync(join(tmpdir(), 'segments-cdk-'));
  const built = createSegmentationApp({
    outdir,
    builtinCloudFormationValidation: false,
    context: { ...cdkJsonContext(), ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }), ...context },
  });
  const assembly = built.app.synth();
  const json = assembly.getStackArtifact(built.stack.artifactId).template as Synthesized['json'];
  return {
    ...built,
    outdir,
    assembly,
    template: Template.fromJSON(json),
    json,
    logicalId: (construct) => built.stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string,
    remove: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

export interface ValidationViolation {
  readonly pluginName: string;
  readonly ruleName: string;
  readonly severity: string;
  readonly constructs: readonly string[];
}

/** Every violation (any severity) in the cloud assembly's validation report. */
export function validationViolations(outdir: string): ValidationViolation[] {
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
    pluginReports: Array<{
      pluginName: string;
      violations: Array<{ ruleName: string; severity: string; violatingConstructs?: Array<{ constructPath: string }> }>;
    }>;
  };
  return report.pluginReports.flatMap((plugin) =>
    plugin.violations.map((v) => ({
      pluginName: plugin.pluginName,
      ruleName: v.ruleName,
      severity: v.severity,
      constructs: (v.violatingConstructs ?? []).map((c) => c.constructPath),
    })),
  );
}
