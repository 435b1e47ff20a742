import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../../functions/config/errors.js';
import { parseConfig } from '../../../functions/config/load.js';

const settings = {
  version: 1,
  schedule: { intervalMinutes: 15 },
  vault: { address: 'https://vault.example.com' },
  secretAccess: { byTag: { key: 'vault-renewer:access' } },
};

function issuesOf(file: Record<string, unknown>): { path: string; message: string }[] {
  try {
    parseConfig(stringify(file));
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  return [];
}

describe('targets in an S3 object, fanned out in batches', () => {
  it('takes a file with no targets of its own when they live in the targets object', () => {
    const config = parseConfig(
      stringify({ ...settings, targetsObject: {}, fanOut: { batchSize: 500, maxConcurrency: 20 } }),
    );
    expect(config.targets).toEqual([]);
    expect(config.targetsObject).toEqual({ key: 'targets.jsonl' });
    expect(config.fanOut).toEqual({ batchSize: 500, maxConcurrency: 20 });
  });

  it('needs the targets object for fan-out, and IAM by prefix or tag for the object', () => {
    const { secretAccess: _, ...noAccess } = settings;
    expect(issuesOf({ ...noAccess, targetsObject: { key: 'fleet/targets.jsonl' } })).toEqual([
      {
        path: 'targetsObject',
        message:
          'needs secretAccess.prefixes or secretAccess.byTag: the targets in S3 are not known when IAM is packaged',
      },
    ]);
    expect(issuesOf({ ...settings, fanOut: { batchSize: 500, maxConcurrency: 20 } })).toEqual([
      {
        path: 'fanOut',
        message: 'needs targetsObject: the batches are read from the targets object in S3',
      },
      {
        path: 'targets',
        message: 'must list at least one target (or set targetsObject: the targets live in S3)',
      },
    ]);
  });

  it('checks the batch size, the concurrency and the object key', () => {
    expect(
      issuesOf({
        ...settings,
        targetsObject: { key: '/abs' },
        fanOut: { batchSize: 0, maxConcurrency: 5000 },
      }).map((i) => i.path),
    ).toEqual(['targetsObject.key', 'fanOut.batchSize', 'fanOut.maxConcurrency']);
  });
});
