import { describe, expect, it } from 'vitest';
import { awsEnv, type StackEnv, shellExports } from '../../../tools/local-stack/stack.js';

const env: StackEnv = {
  VAULT_ADDR: 'http://127.0.0.1:8200',
  VAULT_TOKEN: "root'token",
  VAULT_UNSEAL_KEY: '',
  ...awsEnv('http://127.0.0.1:5000'),
  DATABASE_URL: 'postgres://vault@127.0.0.1:5432/app',
};

describe('npm run stack exports', () => {
  it('the region under both names the AWS tools read (the CLI v1 reads only AWS_DEFAULT_REGION)', () => {
    const lines = shellExports(env).split('\n');
    expect(lines).toContain("export AWS_REGION='us-east-1'");
    expect(lines).toContain("export AWS_DEFAULT_REGION='us-east-1'");
  });

  it('every value quoted for the shell, quotes included', () => {
    expect(shellExports(env)).toContain("export VAULT_TOKEN='root'\\''token'");
    expect(shellExports(env).split('\n')).toHaveLength(Object.keys(env).length);
  });
});
