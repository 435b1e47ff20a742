/**
 * One AWS JSON-protocol operation sent without the SDK's middleware stack, for
 * the run's hot reads (BatchGetSecretValue, BatchGetItem). Sent through
 * `client.send`, each such call cost about twice the signed HTTP exchange
 * itself: the middleware stack, the schema-driven (de)serialisation and Node's
 * HTTP client (bench, docs/benchmark.md).
 *
 * What the SDK does that matters is kept by taking it from the client: the
 * endpoint comes from the SDK's own rules (`getEndpointFromInstructions`: the
 * region, FIPS and dual-stack settings, `AWS_ENDPOINT_URL_<SERVICE>`, account-
 * based endpoints), the signature from the client's SigV4 signer (its
 * credential chain, its clock-skew offset). The request is the one the SDK
 * sends for the AWS JSON protocols (aws-facts §2.4: `POST /`, the protocol's
 * content type, `X-Amz-Target`), over undici.
 *
 * Only a 200 answer of the documented shape is taken. Anything else (an error
 * status, a network failure, an answer of another shape) returns `undefined`
 * and the caller sends the same call through the SDK, which retries, corrects
 * its clock and names the error as it always has: failures behave exactly as
 * before, at the price of one more attempt. After such a failure every call
 * goes through the SDK for a while (`cooldownMs`), so a lasting one (throttling,
 * an endpoint that refuses the direct form) does not double the traffic.
 */

import { getEndpointFromInstructions } from '@smithy/core/endpoints';
import type { Dispatcher } from 'undici';
import { dispatcherFor, exchange } from '../http/undici.js';

/** The operation: its wire names, and how to read its answer. */
export interface DirectOperation<Answer> {
  /** `X-Amz-Target`, e.g. `secretsmanager.BatchGetSecretValue`. */
  readonly target: string;
  /** `application/x-amz-json-1.1` (Secrets Manager) or `-1.0` (DynamoDB). */
  readonly contentType: string;
  /** The service's SigV4 name, used when the endpoint's rules name none. */
  readonly signingName: string;
  /** The SDK's command class, whose endpoint instructions pick the endpoint. */
  readonly command: Parameters<typeof getEndpointFromInstructions>[1];
  /** The answer, or `undefined` when it is not the documented shape (the SDK then reads it). */
  readonly parse: (text: string) => Answer | undefined;
}

/** A client of the AWS SDK v3, as far as the direct path uses it. */
export interface SdkClient {
  readonly config: object;
}

export interface DirectCallOptions {
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

/**
 * Sends one call; `undefined` means "send it through the SDK instead".
 * `endpointInput` is what the endpoint depends on (a table name or ARN picks a
 * DynamoDB endpoint): one route is worked out per distinct key.
 */
export type DirectCall<Input, Answer> = (
  input: Input,
  signal: AbortSignal | undefined,
  endpointInput?: { readonly key: string; readonly input: object },
) => Promise<Answer | undefined>;

export interface FallbackLogger {
  warn(message: string, fields: Record<string, unknown>): void;
}

/** An `onFallback` that logs `message` at WARN with its reason. */
export function warnWith(logger: FallbackLogger, message: string): (reason: string) => void {
  return (reason) => logger.warn(message, { reason });
}

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

/** The client config fields the direct path reads (all set by every SDK v3 client). */
interface ClientConfig {
  readonly region: () => Promise<string>;
  readonly signer: (scheme: object) => Promise<{
    sign(request: never, options: { signingDate: Date }): Promise<unknown>;
  }>;
  readonly systemClockOffset?: number;
  readonly disableClockSkewCorrection?: unknown;
}

export function createDirectCall<Input, Answer>(
  client: SdkClient,
  operation: DirectOperation<Answer>,
  options: DirectCallOptions = {},
): DirectCall<Input, Answer> & { close(): Promise<void> } {
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
  // Worked out once per endpoint input, on first use: the SDK's endpoint rules and signer.
  const routes = new Map<string, Promise<Route>>();

  const call: DirectCall<Input, Answer> = async (input, signal, endpointInput) => {
    const aborted = () => signal?.aborted === true;
    // An aborted call goes to the SDK, which fails it the way the caller knows.
    if (aborted() || now() < sdkUntil) return undefined;
    const routeKey = endpointInput?.key ?? '';
    let resolved: Route;
    try {
      let route = routes.get(routeKey);
      if (route === undefined) {
        route = resolveRoute(client, operation, endpointInput?.input ?? {});
        routes.set(routeKey, route);
      }
      resolved = await route;
    } catch {
      routes.delete(routeKey);
      return fallBack('no endpoint or signer');
    }
    const body = JSON.stringify(input);
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
    return operation.parse(answer.text) ?? fallBack('an answer of another shape');
  };
  return Object.assign(call, { close });
}

async function resolveRoute(
  client: SdkClient,
  operation: DirectOperation<unknown>,
  endpointInput: object,
): Promise<Route> {
  const config = client.config as ClientConfig;
  // A copy, as the SDK's own middleware passes: the rules may set the endpoint they found on it.
  const endpoint = await getEndpointFromInstructions(endpointInput, operation.command, {
    ...config,
  });
  const { url } = endpoint;
  // Region and service as the endpoint's rules say, when they say (the SDK signs so).
  const schemes = (endpoint.properties?.authSchemes ?? []) as readonly AuthScheme[];
  const scheme = schemes[0];
  if (scheme !== undefined && scheme.name !== 'sigv4') {
    throw new Error(`the endpoint asks for ${scheme.name} signing`);
  }
  const signer = await config.signer({
    name: 'sigv4',
    signingName: scheme?.signingName ?? operation.signingName,
    signingRegion: scheme?.signingRegion ?? (await config.region()),
    properties: {},
  });
  const path = url.pathname.endsWith('/') ? url.pathname : `${url.pathname}/`;
  const endpointHeaders = Object.fromEntries(
    Object.entries(endpoint.headers ?? {}).map(([name, values]) => [name, values.join(', ')]),
  );
  const disableSkew = config.disableClockSkewCorrection;
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
    headers: {
      ...endpointHeaders,
      'content-type': operation.contentType,
      'x-amz-target': operation.target,
    },
    sign: async (request) =>
      (await signer.sign(request as never, {
        // The SDK moves its clock when AWS says it is off; signed with the same offset.
        signingDate: new Date(Date.now() + (skewed ? (config.systemClockOffset ?? 0) : 0)),
      })) as { headers: Record<string, string> },
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

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** `text` as JSON, or `undefined` when it is not. */
export function jsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
