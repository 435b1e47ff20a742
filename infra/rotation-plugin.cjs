/**
 * osls plugin (serverless.yml `plugins:`): after every `osls deploy`, gives
 * each AppRole and token secret of the fleet the rotation its config asks for
 * (`npm run rotation:apply`, scripts/rotation-apply.ts) with the stack's
 * RotateFunctionArn output. Through the Secrets Manager API, not the
 * template: one AWS::SecretsManager::RotationSchedule per secret would reach
 * CloudFormation's 500 resources per stack at a few hundred targets
 * (docs/rotation.md, "Deploy").
 *
 * A failure here fails the deploy command after the stack is updated, naming
 * what to run again. VAULT_RENEWER_SKIP_ROTATION_APPLY=1 skips it (e.g. a
 * pipeline that runs rotation:apply as its own step).
 */

'use strict';

const { spawnSync } = require('node:child_process');
const { resolve } = require('node:path');

const OUTPUT = 'RotateFunctionArn';

class RotationSettings {
  constructor(serverless, options, { log } = {}) {
    this.serverless = serverless;
    this.options = options;
    this.log = log ?? { notice: console.log, warning: console.warn };
    this.hooks = { 'after:deploy:deploy': () => this.apply() };
  }

  /** The rotate function's ARN from the deployed stack's outputs. */
  async functionArn() {
    const provider = this.serverless.getProvider('aws');
    const answer = await provider.request('CloudFormation', 'describeStacks', {
      StackName: provider.naming.getStackName(),
    });
    const outputs = answer.Stacks?.[0]?.Outputs ?? [];
    return outputs.find((output) => output.OutputKey === OUTPUT)?.OutputValue;
  }

  /** Runs `npm run rotation:apply` in the service directory; returns its exit code. */
  run(args, env) {
    const result = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        resolve(this.serverless.serviceDir, 'scripts/rotation-apply.ts'),
        ...args,
      ],
      { cwd: this.serverless.serviceDir, env, stdio: 'inherit' },
    );
    return result.status ?? 1;
  }

  async apply() {
    if (process.env.VAULT_RENEWER_SKIP_ROTATION_APPLY === '1') {
      this.log.notice('rotation settings: skipped (VAULT_RENEWER_SKIP_ROTATION_APPLY=1)');
      return;
    }
    const arn = await this.functionArn();
    if (arn === undefined) {
      throw new Error(`the stack has no ${OUTPUT} output: is infra/rotation.yml in resources?`);
    }
    const provider = this.serverless.getProvider('aws');
    const env = { ...process.env, AWS_REGION: provider.getRegion() };
    const profile = provider.getProfile?.();
    if (profile) env.AWS_PROFILE = profile;
    const code = this.run(['--function-arn', arn], env);
    if (code !== 0) {
      throw new Error(
        `rotation settings were not all applied (exit ${code}); the stack is deployed. Run again: npm run rotation:apply -- --function-arn ${arn}`,
      );
    }
  }
}

module.exports = RotationSettings;
