/**
 * BatchGetSecretValue without the SDK's middleware stack: the run's one hot
 * AWS call (1,500 of them for 10,000 targets). Sent through `client.send` each
 * cost about 0.8 ms of CPU, about twice the signed HTTP exchange itself: the
 * middleware stack, the schema-driven (de)serialisation and Node's HTTP client
 * (bench, docs/benchmark.md).
 *
 * What the SDK does that matters is kept by taking it from the client: the
 * endpoint comes from the SDK's own rules (`getEndpointFromInstructions`: the
 * region, FIPS and dual-stack settings, `AWS_ENDPOINT_URL_SECRETS_MANAGER`),
 * the signature from the client's SigV4 signer (its credential chain, its
 * clock-skew offset). The request is the one the SDK sends (aws-facts §2.4:
 * `POST /`, `application/x-amz-json-1.1`, `X-Amz-Target`), over undici.
 *
 * Only a 200 answer of the documented shape is taken. Anything else (an error
 * status, a network failure, an answer of another shape) returns `undefined`
 * and the store sends the same call through the SDK, which retries, corrects
 * its clock and names the error as it always has: failures behave exactly as
 * before, at the price of one more attempt. After such a failure every call
 * goes through the SDK for a while (`cooldownMs`), so a lasting one (throttling,
 * an endpoint that refuses the direct form) does not double the traffic.
 */

import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BatchGetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import type { Dispatcher } from 'undici';
import { dispatcherFor, exchange } from '../http/undici.js';

/** One secret of a BatchGetSecretValue answer, as far as the store reads it. */
export interface BatchSecretValue {
  readonly Name?: string | undefined;
  readonly ARN?: string | undefined;
  readonly VersionId?: string | undefined;
  readonly SecretString?: string | undefined;
  /** Base64 on the wire; the store only needs to know it is there. */
  readonly SecretBinary?: unknown;
}

export interface BatchSecretError {
  readonly SecretId?: string | undefined;
  readonly ErrorCode?: string | undefined;
  readonly Message?: string | undefined;
}

/** The fields of a BatchGetSecretValue answer the store reads, from either path. */
export interface BatchAnswer {
  readonly SecretValues?: readonly BatchSecretValue[] | undefined;
  readonly Errors?: readonly BatchSecretError[] | undefined;
  readonly NextToken?: string | undefined;
}

export interface BatchRequest {
  readonly SecretIdList: readonly string[];
  readonly NextToken?: string;
}

/** Sends one BatchGetSecretValue; `undefined` means "send it through the SDK instead". */
export type DirectBatchRead = (
  input: BatchRequest,
  signal: AbortSignal | undefined,
) => Promise<BatchAnswer | undefined>;

/** The log line of a fallback (docs/operations.md, "Metrics and logs"). */
export const FALLBACK_MESSAGE = 'secret reads fall back to the AWS SDK';

/** An `onFallback` that logs {@link FALLBACK_MESSAGE} at WARN with its reason. */
export function warnOnFallback(logger: {
  warn(message: string, fields: Record<string, unknown>): void;
}): (reason: string) => void {
  return (reason) => logger.warn(FALLBACK_MESSAGE, { reason });
}

export interface DirectBatchReadOptions {
  /** An undici dispatcher to send through instead of an Agent of its own. */
  readonly dispatcher?: Dispatcher;
  /** Deadline of a call made without a signal (the SDK's calls have none of their own). */
  readonly timeoutMs?: number;
  /** Told once per reason the direct path gave way to the SDK (an error status, a network error). */
  readonly onFallback?: (reason: string) => void;
  /** How long every call goes through the SDK after the direct path gave way (default 60 s). */
  readonly cooldownMs?: number;
  /** Epoch milliseconds, for the cooldown. */
  readonly now?: () => number;
}

const TARGET = 'secretsmanager.BatchGetSecretValue';
const SIGNING_NAME = 'secretsmanager';
const CONTENT_TYPE = 'application/x-amz-json-1.1';
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_COOLDOWN_MS = 60_000;

interface Route {
  readonly origin: string;
  /** The path the SDK sends to: the endpoint's, ending in `/` (its JSON protocols add one). */
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  /** `path` with its query string, as sent. */
  readonly target: string;
  readonly host: string;
  readonly protocol: string;
  readonly hostname: string;
  readonly port: number | undefined;
  readonly headers: Readonly<Record<string, string>>;
  readonly sign: (request: SignableRequest) => Promise<{ headers: Record<string, string> }>;
}

interface SignableRequest {
  readonly method: 'POST';
  readonly protocol: string;
  readonly hostname: string;
  readonly port: number | undefined;
  readonly path: string;
  readonly query: Record<string, string>;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export function createDirectBatchRead(
  client: SecretsManagerClient,
  options: DirectBatchReadOptions = {},
): DirectBatchRead & { close(): Promise<void> } {
  const { dispatcher, close } = dispatcherFor(options.dispatcher);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const cooldownMs = options.cooldownMs ?? DEFAULT_COOLDOWN_MS;
  const now = options.now ?? Date.now;
  let sdkUntil = Number.NEGATIVE_INFINITY;
  const told = new Set<string>();
  const fallBack = (reason: string): undefined => {
    sdkUntil = now() + cooldownMs;
    if (!told.has(reason)) {
      told.add(reason);
      options.onFallback?.(reason);
    }
    return undefined;
  };
  // Worked out once, on first use: the SDK's endpoint rules and signer for this client.
  let route: Promise<Route> | undefined;

  const read = async (input: BatchRequest, signal: AbortSignal | undefined) => {
    const aborted = () => signal?.aborted === true;
    // An aborted call goes to the SDK, which fails it the way the store knows.
    if (aborted() || now() < sdkUntil) return undefined;
    let resolved: Route;
    try {
      route ??= resolveRoute(client);
      resolved = await route;
    } catch {
      route = undefined;
      return fallBack('no endpoint or signer');
    }
    const body = JSON.stringify(
      input.NextToken === undefined
        ? { SecretIdList: input.SecretIdList }
        : { SecretIdList: input.SecretIdList, NextToken: input.NextToken },
    );
    let answer: { status: number; text: string };
    try {
      const signed = await resolved.sign({
        method: 'POST',
        protocol: resolved.protocol,
        hostname: resolved.hostname,
        port: resolved.port,
        path: resolved.path,
        query: { ...resolved.query },
        headers: { ...resolved.headers, host: resolved.host },
        body,
      });
      answer = await exchange(dispatcher, {
        origin: resolved.origin,
        path: resolved.target,
        method: 'POST',
        headers: signed.headers,
        body,
        signal: signal ?? AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      // The deadline passed: the SDK, handed the aborted signal, fails the call as always.
      if (aborted()) return undefined;
      return fallBack(failureReason(error));
    }
    if (answer.status !== 200) return fallBack(`HTTP ${answer.status}`);
    const parsed = parseAnswer(answer.text);
    return parsed ?? fallBack('an answer of another shape');
  };
  return Object.assign(read, { close });
}

async function resolveRoute(client: SecretsManagerClient): Promise<Route> {
  const { config } = client;
  // A copy, as the SDK's own middleware passes: the rules may set the endpoint they found on it.
  const endpoint = await getEndpointFromInstructions(
    { SecretIdList: [] },
    BatchGetSecretValueCommand,
    { ...config },
  );
  const { url } = endpoint;
  // Region and service as the endpoint's rules say, when they say (the SDK signs so).
  const schemes = (endpoint.properties?.authSchemes ?? []) as readonly AuthScheme[];
  const scheme = schemes[0];
  if (scheme !== undefined && scheme.name !== 'sigv4') {
    throw new Error(`the endpoint asks for ${scheme.name} signing`);
  }
  const signer = await config.signer({
    name: 'sigv4',
    signingName: scheme?.signingName ?? SIGNING_NAME,
    signingRegion: scheme?.signingRegion ?? (await config.region()),
    properties: {},
  });
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const endpointHeaders = Object.fromEntries(
    Object.entries(endpoint.headers ?? {}).map(([name, values]) => [name, values.join(', ')]),
  );
  const disableSkew: unknown = config.disableClockSkewCorrection;
  const skewed =
    (typeof disableSkew === 'function' ? await (disableSkew as () => unknown)() : disableSkew) !==
    true;
  return {
    origin: url.origin,
    path,
    query: Object.fromEntries(url.searchParams),
    target: `${path}${url.search}`,
    host: url.host,
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port === '' ? undefined : Number(url.port),
    headers: { ...endpointHeaders, 'content-type': CONTENT_TYPE, 'x-amz-target': TARGET },
    sign: async (request) =>
      (await signer.sign(request as never, {
        // The SDK moves its clock when AWS says it is off; signed with the same offset.
        signingDate: new Date(Date.now() + (skewed ? (config.systemClockOffset ?? 0) : 0)),
      })) as unknown as { headers: Record<string, string> },
  };
}

interface AuthScheme {
  readonly name?: string;
  readonly signingName?: string;
  readonly signingRegion?: string;
}

/** Why an exchange failed, in words for the log: a Node error code, else the error's name. */
function failureReason(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && code !== '') return `network: ${code}`;
  return `no answer: ${error instanceof Error ? error.name : typeof error}`;
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const optionalString = (value: unknown): boolean =>
  value === undefined || typeof value === 'string';

/** Every item an object whose `keys` are strings or absent. */
const recordsOfStrings = (items: readonly unknown[], keys: readonly string[]): boolean =>
  items.every((item) => isRecord(item) && keys.every((key) => optionalString(item[key])));

/** The answer, or `undefined` when it is not the documented shape (the SDK then reads it). */
export function parseAnswer(text: string): BatchAnswer | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(body)) return undefined;
  const { SecretValues: values = [], Errors: errors = [], NextToken: nextToken } = body;
  if (!(Array.isArray(values) && Array.isArray(errors))) return undefined;
  if (!(nextToken === undefined || nextToken === null || typeof nextToken === 'string')) {
    return undefined;
  }
  if (
    !recordsOfStrings(values, ['Name', 'ARN', 'VersionId', 'SecretString']) ||
    !recordsOfStrings(errors, ['SecretId', 'ErrorCode', 'Message'])
  ) {
    return undefined;
  }
  return {
    SecretValues: values as BatchSecretValue[],
    Errors: errors as BatchSecretError[],
    ...(typeof nextToken === 'string' ? { NextToken: nextToken } : {}),
  };
}
