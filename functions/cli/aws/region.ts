// The AWS region a command runs in: --region, else the SDK's own chain (AWS_REGION, the profile).

import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { InvalidOptionError } from '../../../shared/errors.ts';

/** Resolves the region once, so that every client of a command talks to the same one. */
export async function resolveRegion(region: string | undefined): Promise<string> {
  if (region !== undefined) {
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(region))
      throw new InvalidOptionError(`--region must be an AWS region such as eu-west-1 (got "${region}")`);
    return region;
  }
  const probe = new CloudFormationClient({});
  try {
    return await probe.config.region();
  } catch {
    throw new InvalidOptionError('no AWS region: pass --region <region> or set AWS_REGION (or a region in the AWS_PROFILE in use)');
  } finally {
    probe.destroy();
  }
}
