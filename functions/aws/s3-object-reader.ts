/**
 * One S3 object read again only when it changed: the first read is a plain
 * GetObject, each later one sends the ETag it has (`If-None-Match`), and S3
 * answers 304 when the object is the same, one conditional request per run.
 * The functions read the targets object (config `targetsObject`) with it.
 */

import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { describeAwsFailure } from './errors.js';

/** The object, or `unchanged` when it is what the last read returned. */
export type ObjectRead =
  | { readonly changed: true; readonly text: string; readonly etag: string }
  | { readonly changed: false };

export interface ObjectReader {
  read(signal?: AbortSignal): Promise<ObjectRead>;
}

/** The object could not be read: names bucket, key and AWS's code. */
export class ObjectReadError extends Error {
  override name = 'ObjectReadError';
  readonly code: string;

  constructor(where: string, code: string, message: string, options?: ErrorOptions) {
    super(`cannot read ${where}: ${code}: ${message}`, options);
    this.code = code;
  }
}

/**
 * One GetObject: the text and ETag, `unchanged` when S3 answers 304 to
 * `ifNoneMatch`, or an {@link ObjectReadError} naming the object.
 */
export async function getObjectText(
  client: S3Client,
  request: {
    readonly bucket: string;
    readonly key: string;
    readonly range?: string;
    readonly ifNoneMatch?: string;
    readonly signal?: AbortSignal;
  },
): Promise<{ readonly text: string; readonly etag: string } | 'unchanged'> {
  try {
    const answer = await client.send(
      new GetObjectCommand({
        Bucket: request.bucket,
        Key: request.key,
        ...(request.range === undefined ? {} : { Range: request.range }),
        ...(request.ifNoneMatch === undefined ? {} : { IfNoneMatch: request.ifNoneMatch }),
      }),
      request.signal === undefined ? {} : { abortSignal: request.signal },
    );
    const text = (await answer.Body?.transformToString('utf-8')) ?? '';
    return { text, etag: answer.ETag ?? '' };
  } catch (error) {
    const failure = describeAwsFailure(error);
    if (failure.httpStatusCode === 304) return 'unchanged';
    throw new ObjectReadError(
      `s3://${request.bucket}/${request.key}`,
      failure.code,
      failure.message,
      {
        cause: error,
      },
    );
  }
}

export function createS3ObjectReader(client: S3Client, bucket: string, key: string): ObjectReader {
  let etag: string | undefined;
  return {
    async read(signal) {
      const answer = await getObjectText(client, {
        bucket,
        key,
        ...(etag === undefined ? {} : { ifNoneMatch: etag }),
        ...(signal === undefined ? {} : { signal }),
      });
      if (answer === 'unchanged') return { changed: false };
      etag = answer.etag;
      return { changed: true, ...answer };
    },
  };
}
