import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A loopback HTTP reverse proxy to put between a client and OpenBao or moto, with faults
 * programmed per test: latency, error answers (429 + Retry-After included), connections
 * dropped before or after the upstream saw the request, answers held past a deadline.
 * Everything it receives is recorded. Node's HTTP server rejects the LIST verb; clients
 * use `GET ?list=true`.
 *
 *   const proxy = await startFaultProxy(stack.VAULT_ADDR);
 *   proxy.addFault({ match: { path: /renew-self/ }, status: 503, times: 2 });
 *   ... point the client at proxy.url ...
 *   expect(proxy.requests.map((r) => r.path)) ...
 *   await proxy.close();
 */

/** Strings match exactly (method case-insensitively; path without its query); RegExps test. */
export interface FaultMatch {
  readonly method?: string | RegExp;
  /** Matched against the path without query string when a string, with it when a RegExp. */
  readonly path?: string | RegExp;
  /** The AWS operation: `X-Amz-Target` (JSON protocols) or the form's `Action=` (SNS). */
  readonly target?: string | RegExp;
}

export interface Fault {
  /** Which requests; all of them when omitted. */
  readonly match?: FaultMatch;
  /** Apply to the next `times` matching requests, then retire. Default: no limit. */
  readonly times?: number;
  /** Apply to this fraction (0–1) of matching requests, drawn with the proxy's `random`. */
  readonly rate?: number;
  /** Wait before acting. A client that hangs up meanwhile is not forwarded. */
  readonly latencyMs?: number;
  /** Answer with this status instead of forwarding. */
  readonly status?: number;
  /** Body of the `status` answer: a string as is, anything else as JSON. */
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Destroy the client's connection: 'before-forward' — the upstream never sees the request;
   * 'after-forward' — the upstream processed it, the client never gets the answer.
   */
  readonly drop?: 'before-forward' | 'after-forward';
  /** Forward at once, hold the upstream's answer this long (the client's deadline fires). */
  readonly responseDelayMs?: number;
}

export interface FaultHandle {
  /** How many requests this fault has been applied to. */
  readonly applied: number;
  remove(): void;
}

export type RequestOutcome =
  | 'forwarded'
  | 'fault-status'
  | 'dropped-before-forward'
  | 'dropped-after-forward'
  | 'client-gone'
  | 'upstream-error';

export interface RecordedRequest {
  readonly method: string;
  /** Path with query string, as received. */
  readonly path: string;
  /** `X-Amz-Target` or form `Action=`; undefined for other requests (Vault). */
  readonly target: string | undefined;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  /** Whether a fault was applied to it. */
  readonly faulted: boolean;
  /** What happened; set once the proxy is done with the request. */
  outcome?: RequestOutcome;
  /** Status the client received (undefined when the connection was dropped). */
  status?: number;
}

export interface FaultProxy {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly requests: readonly RecordedRequest[];
  addFault(fault: Fault): FaultHandle;
  clearFaults(): void;
  /** Forgets the recorded requests (faults stay). */
  clearRequests(): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** Source of randomness for `rate`; inject a sequence for deterministic tests. */
  readonly random?: () => number;
}

/** 429 Too Many Requests with a Retry-After header, the way Vault and AWS throttle. */
export function rateLimited(
  retryAfterSeconds: number,
  fault: Omit<Fault, 'status' | 'headers'> = {},
): Fault {
  return {
    body: { errors: ['rate limit quota exceeded'] },
    ...fault,
    status: 429,
    headers: { 'retry-after': String(retryAfterSeconds) },
  };
}

interface ActiveFault {
  readonly fault: Fault;
  applied: number;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

export async function startFaultProxy(
  upstreamUrl: string,
  options: FaultProxyOptions = {},
): Promise<FaultProxy> {
  const upstream = new URL(upstreamUrl);
  if (upstream.protocol !== 'http:') {
    throw new Error(`fault proxy upstream must be http://, got ${upstreamUrl}`);
  }
  const random = options.random ?? Math.random;
  const agent = new Agent({ keepAlive: true });
  const closing = new AbortController();
  const requests: RecordedRequest[] = [];
  let faults: ActiveFault[] = [];

  const pickFault = (request: RequestKey): ActiveFault | undefined => {
    for (const active of faults) {
      if (!matches(active.fault.match, request)) continue;
      if (active.fault.rate !== undefined && random() >= active.fault.rate) continue;
      active.applied += 1;
      if (active.fault.times !== undefined && active.applied >= active.fault.times) {
        faults = faults.filter((other) => other !== active);
      }
      return active;
    }
    return undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readBody(req);
    const key: RequestKey = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      target: awsTarget(req.headers, body),
    };
    const fault = pickFault(key)?.fault;
    const recorded: RecordedRequest = {
      ...key,
      headers: req.headers,
      body: body.toString('utf8'),
      faulted: fault !== undefined,
    };
    requests.push(recorded);
    const finish = (outcome: RequestOutcome, status?: number) => {
      recorded.outcome = outcome;
      if (status !== undefined) recorded.status = status;
    };
    const clientGone = () => res.destroyed || req.socket.destroyed;

    if (fault?.latencyMs) await sleep(fault.latencyMs, undefined, { signal: closing.signal });
    if (clientGone()) return finish('client-gone');
    if (fault?.drop === 'before-forward') {
      req.socket.destroy();
      return finish('dropped-before-forward');
    }
    if (fault?.status !== undefined) {
      const text =
        fault.body === undefined
          ? ''
          : typeof fault.body === 'string'
            ? fault.body
            : JSON.stringify(fault.body);
      const headers: OutgoingHttpHeaders = {
        ...(typeof fault.body === 'object' ? { 'content-type': 'application/json' } : {}),
        ...fault.headers,
        'content-length': Buffer.byteLength(text),
      };
      res.writeHead(fault.status, headers).end(text);
      return finish('fault-status', fault.status);
    }

    let answer: UpstreamAnswer;
    try {
      answer = await forward(upstream, agent, req, body);
    } catch (error) {
      // As a reverse proxy would: the upstream is down or hung up.
      const text = `fault-proxy: upstream ${upstream.origin} failed: ${(error as Error).message}`;
      if (!clientGone()) res.writeHead(502, { 'content-type': 'text/plain' }).end(text);
      return finish('upstream-error', 502);
    }
    if (fault?.drop === 'after-forward') {
      req.socket.destroy();
      return finish('dropped-after-forward');
    }
    if (fault?.responseDelayMs) {
      await sleep(fault.responseDelayMs, undefined, { signal: closing.signal });
    }
    if (clientGone()) return finish('client-gone');
    res.writeHead(answer.status, answer.headers).end(answer.body);
    finish('forwarded', answer.status);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (closing.signal.aborted) {
        req.socket.destroy();
        return;
      }
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`fault-proxy: ${String(error)}`);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    addFault(fault) {
      if (fault.status !== undefined && fault.drop !== undefined) {
        throw new Error('a fault either answers with a status or drops the connection, not both');
      }
      if (fault.rate !== undefined && (fault.rate < 0 || fault.rate > 1)) {
        throw new Error(`fault rate must be within 0–1, got ${fault.rate}`);
      }
      const active: ActiveFault = { fault, applied: 0 };
      faults.push(active);
      return {
        get applied() {
          return active.applied;
        },
        remove() {
          faults = faults.filter((other) => other !== active);
        },
      };
    },
    clearFaults() {
      faults = [];
    },
    clearRequests() {
      requests.length = 0;
    },
    async close() {
      closing.abort();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

type RequestKey = Pick<RecordedRequest, 'method' | 'path' | 'target'>;

function matches(match: FaultMatch | undefined, request: RequestKey): boolean {
  if (!match) return true;
  const pathname = request.path.split('?')[0] ?? request.path;
  return (
    matchesValue(
      match.method,
      request.method,
      (expected, actual) => expected.toUpperCase() === actual.toUpperCase(),
    ) &&
    (match.path === undefined ||
      (typeof match.path === 'string' ? match.path === pathname : match.path.test(request.path))) &&
    (match.target === undefined ||
      (request.target !== undefined &&
        matchesValue(match.target, request.target, (expected, actual) => expected === actual)))
  );
}

function matchesValue(
  expected: string | RegExp | undefined,
  actual: string,
  equals: (expected: string, actual: string) => boolean,
): boolean {
  if (expected === undefined) return true;
  return typeof expected === 'string' ? equals(expected, actual) : expected.test(actual);
}

/** `X-Amz-Target: secretsmanager.GetSecretValue`, or `Action=Publish` in an SNS form body. */
function awsTarget(headers: IncomingHttpHeaders, body: Buffer): string | undefined {
  const header = headers['x-amz-target'];
  if (typeof header === 'string') return header;
  if ((headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return new URLSearchParams(body.toString('utf8')).get('Action') ?? undefined;
  }
  return undefined;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

interface UpstreamAnswer {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly body: Buffer;
}

function forward(
  upstream: URL,
  agent: Agent,
  req: IncomingMessage,
  body: Buffer,
): Promise<UpstreamAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      {
        protocol: upstream.protocol,
        hostname: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        agent,
        // The Host header stays as the client sent it: SigV4 signs it.
        headers: { ...withoutHopByHop(req.headers), 'content-length': body.length },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const responseBody = Buffer.concat(chunks);
          resolve({
            status: response.statusCode ?? 502,
            headers: {
              ...withoutHopByHop(response.headers),
              'content-length': responseBody.length,
            },
            body: responseBody,
          });
        });
      },
    );
    outgoing.on('error', reject);
    outgoing.end(body);
  });
}

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const result: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) result[name] = value;
  }
  return result;
}
