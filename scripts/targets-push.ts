/**
 * `npm run targets:push -- --file targets.jsonl [--bucket name] [--dry-run]`:
 * validates a JSON Lines file of targets (one target a line, in the config
 * file's target format) with the same schema and rules as the config's own
 * targets, together with them, and uploads the resolved targets to the
 * stack's targets bucket, where the functions read them (config
 * `targetsObject`). Every problem is named by its line and field, and
 * nothing is uploaded when anything is wrong. No rebuild, no redeploy.
 */

import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describeAwsFailure } from '../functions/aws/errors.js';
import { renderTargetLines } from '../functions/config/target-lines.js';
import { parseOptions, runCommand, SetupError } from './lib/command.js';
import { validateTargetLines } from './targets/validate-lines.js';
import { DEFAULT_CONFIG_PATH } from './validate-config.js';

const COMMAND = 'npm run targets:push';
const USAGE = `Usage: npm run targets:push -- --file <targets.jsonl> [--bucket <name>] [--dry-run]

Validates the targets of a JSON Lines file (one target a line, in the format of the
config's targets:) together with RENEWER_CONFIG (default ${DEFAULT_CONFIG_PATH}), with the
same schema and rules, and uploads them resolved to the stack's targets bucket at the
config's targetsObject.key. Every problem is named by line; nothing is uploaded when
anything is wrong. The functions pick the new object up at their next run.

  --file <path>      the targets, one JSON object a line (blank lines are skipped)
  --bucket <name>    the stack's TargetsBucket output (default: $TARGETS_BUCKET)
  --dry-run          validate only
  -h, --help         this text`;

await runCommand(COMMAND, async () => {
  const options = parseOptions(
    {
      file: { type: 'string' },
      bucket: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (options.file === undefined)
    throw new SetupError(`--file is required\n${USAGE.split('\n')[0]}`);
  const configPath = process.env.RENEWER_CONFIG || DEFAULT_CONFIG_PATH;
  const { config, targets } = validateTargetLines(configPath, options.file);
  const body = renderTargetLines(targets);
  const size = `${(Buffer.byteLength(body) / 1024).toFixed(1)} KB`;
  if (options['dry-run']) {
    process.stdout.write(`${targets.length} targets OK (${size}); not pushed (--dry-run)\n`);
    return;
  }
  const bucket = options.bucket ?? process.env.TARGETS_BUCKET;
  if (bucket === undefined || bucket === '') {
    throw new SetupError(
      'no bucket: pass --bucket <the stack output TargetsBucket> or set TARGETS_BUCKET',
    );
  }
  const key = config.targetsObject?.key ?? '';
  const client = new S3Client({});
  try {
    const put = await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: body,
        ContentType: 'application/x-ndjson',
      }),
    );
    process.stdout.write(
      `pushed ${targets.length} targets (${size}) to s3://${bucket}/${key}${put.VersionId === undefined ? '' : ` (version ${put.VersionId})`}\n`,
    );
  } catch (error) {
    const failure = describeAwsFailure(error);
    throw new SetupError(
      `cannot upload to s3://${bucket}/${key}: ${failure.code}: ${failure.message}`,
    );
  } finally {
    client.destroy();
  }
});
