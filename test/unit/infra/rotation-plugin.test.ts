import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const RotationSettings = require('../../../infra/rotation-plugin.cjs') as new (
  serverless: unknown,
  options: unknown,
  logging: unknown,
) => {
  hooks: Record<string, () => Promise<void>>;
  run: (args: string[], env: Record<string, string | undefined>) => number;
};

const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:vault-renewer-prod-rotate';

function pluginWith(outputs: { OutputKey: string; OutputValue: string }[], exitCode = 0) {
  const requests: unknown[] = [];
  const serverless = {
    serviceDir: '/srv',
    getProvider: () => ({
      request: async (...args: unknown[]) => {
        requests.push(args);
        return { Stacks: [{ Outputs: outputs }] };
      },
      naming: { getStackName: () => 'vault-renewer-prod' },
      getRegion: () => 'eu-west-1',
      getProfile: () => 'deployer',
    }),
  };
  const plugin = new RotationSettings(serverless, {}, { log: { notice: () => {} } });
  const runs: { args: string[]; region: string | undefined; profile: string | undefined }[] = [];
  plugin.run = (args, env) => {
    runs.push({ args, region: env.AWS_REGION, profile: env.AWS_PROFILE });
    return exitCode;
  };
  return { plugin, runs, requests };
}

describe('the deploy step that applies rotation settings', () => {
  it("runs rotation:apply after every deploy with the stack's rotate function", async () => {
    const { plugin, runs, requests } = pluginWith([
      { OutputKey: 'RotateFunctionArn', OutputValue: ARN },
    ]);

    await plugin.hooks['after:deploy:deploy']?.();

    expect(requests).toEqual([
      ['CloudFormation', 'describeStacks', { StackName: 'vault-renewer-prod' }],
    ]);
    expect(runs).toEqual([
      { args: ['--function-arn', ARN], region: 'eu-west-1', profile: 'deployer' },
    ]);
  });

  it('fails the deploy command, naming what to run, when a secret was not applied', async () => {
    const { plugin } = pluginWith([{ OutputKey: 'RotateFunctionArn', OutputValue: ARN }], 1);

    await expect(plugin.hooks['after:deploy:deploy']?.()).rejects.toThrow(
      `the stack is deployed. Run again: npm run rotation:apply -- --function-arn ${ARN}`,
    );
  });

  it('says when the stack lacks the output', async () => {
    const { plugin } = pluginWith([]);

    await expect(plugin.hooks['after:deploy:deploy']?.()).rejects.toThrow(
      'the stack has no RotateFunctionArn output',
    );
  });
});
