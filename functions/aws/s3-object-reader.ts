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

export function createS3ObjectReader(client: S3Client, bucket: string, key: string): ObjectReader {
  let etag: string | undefined;
  const where = `s3://${bucket}/${key}`;
  return {
    async read(signal) {
      try {
        const answer = await client.send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(etag === undefined ? {} : { IfNoneMatch: etag }),
          }),
          signal === undefined ? {} : { abortSignal: signal },
        );
        const text = (await answer.Body?.transformToString('utf-8')) ?? '';
        etag = answer.ETag ?? '';
        return { changed: true, text, etag };
      } catch (error) {
        const failure = describeAwsFailure(error);
        if (failure.httpStatusCode === 304) return { changed: false };
        throw new ObjectReadError(where, failure.code, failure.message, { cause: error });
      }
    },
  };
}
