// Every Lambda function of the stack writes to a log group that expires, CDK's own helpers included
// (the bucket notifications handler, the default-security-group restriction, auto-delete objects):
// an aspect gives each function without a log group of its own one with a retention.

import { CfnResource, RemovalPolicy, type IAspect } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct, type IConstruct } from 'constructs';

const FUNCTION_TYPE = 'AWS::Lambda::Function';

/** Construct id of the log group added beside a function, e.g. `HandlerLogs`. */
function addedLogGroupId(functionResource: IConstruct): string {
  return `${functionResource.node.id}Logs`;
}

/**
 * Visits every `AWS::Lambda::Function`: an L2 function's `CfnFunction`, and the plain `CfnResource`
 * that CDK's singletons and `CustomResourceProvider`s declare. A function whose `LoggingConfig`
 * names no log group gets a new one (beside it, same scope) with `retention`, and its
 * `LoggingConfig.LogGroup` set to it; a function that names one is left alone.
 */
export class FunctionLogRetention implements IAspect {
  constructor(private readonly retention: logs.RetentionDays) {}

  visit(node: IConstruct): void {
    if (!(node instanceof CfnResource) || node.cfnResourceType !== FUNCTION_TYPE) return;
    if (node instanceof lambda.CfnFunction) {
      const config = node.loggingConfig;
      if (config !== undefined && !isLoggingConfig(config)) return; // a token: not ours to change
      if (config?.logGroup !== undefined) return;
      node.loggingConfig = { ...config, logGroup: this.logGroupFor(node).logGroupName };
      return;
    }
    // CfnResource keeps its properties in a protected field; read, never written
    const properties = (node as unknown as { readonly cfnProperties: Record<string, unknown> }).cfnProperties;
    const config = properties.LoggingConfig as { LogGroup?: unknown } | undefined;
    if (config?.LogGroup !== undefined) return;
    node.addPropertyOverride('LoggingConfig.LogGroup', this.logGroupFor(node).logGroupName);
  }

  private logGroupFor(fn: CfnResource): logs.LogGroup {
    const scope = fn.node.scope;
    if (!(scope instanceof Construct)) throw new Error(`${fn.node.path} has no parent scope`);
    return new logs.LogGroup(scope, addedLogGroupId(fn), { retention: this.retention, removalPolicy: RemovalPolicy.DESTROY });
  }
}

function isLoggingConfig(value: unknown): value is lambda.CfnFunction.LoggingConfigProperty {
  return typeof value === 'object' && value !== null && !('resolve' in value);
}
