/**
 * What a Distributed Map leaves in S3 (`ResultWriter`, default
 * transformation NONE, JSON): a `manifest.json` listing the result files by
 * status, each file a JSON array of child executions with their `Output`
 * (the batch function's result, as a JSON string) or `Error` and `Cause`.
 * Read here for the run's last step, which also writes the run's report.
 */

import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describeAwsFailure } from './errors.js';
import { getObjectText } from './s3-object-reader.js';

export interface MapRunResults {
  /** Each succeeded child's output, parsed. */
  readonly succeeded: readonly unknown[];
  /** Each failed (or timed-out, aborted) child: Step Functions' error name. */
  readonly failed: readonly { readonly error: string }[];
}

interface ManifestFile {
  readonly Key?: unknown;
}

/** An object's text; a 304 cannot happen here (no ETag is sent). */
async function getText(client: S3Client, bucket: string, key: string, range?: string) {
  const answer = await getObjectText(client, {
    bucket,
    key,
    ...(range === undefined ? {} : { range }),
  });
  return answer === 'unchanged' ? '' : answer.text;
}

function keysOf(files: unknown): string[] {
  if (!Array.isArray(files)) return [];
  return (files as ManifestFile[]).flatMap((f) => (typeof f.Key === 'string' ? [f.Key] : []));
}

function outputOf(entry: Record<string, unknown>): unknown {
  const output = entry.Output;
  if (typeof output !== 'string') return output;
  try {
    return JSON.parse(output) as unknown;
  } catch {
    return undefined;
  }
}

export async function readMapRunResults(
  client: S3Client,
  bucket: string,
  manifestKey: string,
): Promise<MapRunResults> {
  const manifest = JSON.parse(await getText(client, bucket, manifestKey)) as {
    ResultFiles?: Record<string, unknown>;
  };
  const files = manifest.ResultFiles ?? {};
  const entriesOf = async (status: string) =>
    (
      await Promise.all(
        keysOf(files[status]).map(async (key) => {
          const entries = JSON.parse(await getText(client, bucket, key)) as unknown;
          return Array.isArray(entries) ? (entries as Record<string, unknown>[]) : [];
        }),
      )
    ).flat();
  const [succeeded, failed, pending] = await Promise.all(
    ['SUCCEEDED', 'FAILED', 'PENDING'].map(entriesOf),
  );
  return {
    succeeded: (succeeded ?? []).map(outputOf),
    failed: [...(failed ?? []), ...(pending ?? [])].map((entry) => ({
      error: typeof entry.Error === 'string' ? entry.Error : String(entry.Status ?? 'unknown'),
    })),
  };
}

/** The first line of an object (one target of the targets object), read with a Range. */
export async function readFirstLine(
  client: S3Client,
  bucket: string,
  key: string,
): Promise<string | undefined> {
  const head = await getText(client, bucket, key, 'bytes=0-65535');
  const line = head.split('\n')[0]?.trim();
  return line === undefined || line === '' ? undefined : line;
}

export async function putJson(
  client: S3Client,
  bucket: string,
  key: string,
  value: unknown,
): Promise<void> {
  try {
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: JSON.stringify(value),
        ContentType: 'application/json',
      }),
    );
  } catch (error) {
    const failure = describeAwsFailure(error);
    throw new Error(`cannot write s3://${bucket}/${key}: ${failure.code}: ${failure.message}`, {
      cause: error,
    });
  }
}
