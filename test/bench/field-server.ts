/**
 * The field bench's stand-in for Vault, Secrets Manager, DynamoDB, SNS and
 * EventBridge: unlike canned-server.ts it keeps state (field-world.ts) on a
 * clock the driver moves, so six runs in a row see what the previous ones
 * did. Runs in its own process so it never competes with the renewer for
 * the event loop. Every service answer waits the field latency (50 ms ± 20
 * ms, uniform) divided by the time scale.
 *
 * Control endpoints (answered at once, never delayed):
 * - POST /__setup {FieldSetup} → {firstRunAtMs, brokenTargets}
 * - POST /__run/begin?run=N&at=MS → moves the clock to MS, starts run N's
 *   counters, answers the clock offset the renewer must use
 * - POST /__run/end → the run's counters (RunStats)
 * - POST /__advance {"ms": N} or {"toMs": T} → moves the clock forward
 * - GET /__clock, GET /__stats (FieldTotals)
 *
 *   tsx test/bench/field-server.ts   → prints `PORT <n>`
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { answerAwsJson, answerSns } from './field-aws.js';
import type { FieldSetup } from './field-protocol.js';
import { answerVault } from './field-vault.js';
import { FieldWorld, type Reply } from './field-world.js';

const world = new FieldWorld();

function headerOf(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function parseObject(text: string): Record<string, unknown> {
  if (text === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** A service request: Vault under `/v1/`, AWS JSON protocols by `X-Amz-Target`, SNS by its form. */
function answerService(request: IncomingMessage, path: string, body: string): Reply {
  if (path.startsWith('/v1/')) {
    const bearer = headerOf(request, 'authorization')?.replace(/^Bearer\s+/i, '');
    return answerVault(world, {
      method: request.method ?? 'GET',
      path: path.slice('/v1/'.length),
      token: headerOf(request, 'x-vault-token') ?? bearer,
      body: parseObject(body),
    });
  }
  const target = headerOf(request, 'x-amz-target');
  if (target !== undefined) return answerAwsJson(world, target, body);
  return answerSns(world, body);
}

/** Field latency ± jitter, uniform, on this world's compressed clock. */
function latencyMs(setup: FieldSetup): number {
  const field = setup.latencyMs + (2 * Math.random() - 1) * setup.latencyJitterMs;
  return Math.max(0, field / setup.timeScale);
}

function control(method: string, path: string, query: URLSearchParams, body: string): unknown {
  if (method === 'POST' && path === '/__setup') {
    return world.configure(parseObject(body) as unknown as FieldSetup);
  }
  if (method === 'POST' && path === '/__run/begin') {
    return world.beginRun(Number(query.get('run')), Number(query.get('at')));
  }
  if (method === 'POST' && path === '/__run/end') return world.endRun();
  if (method === 'POST' && path === '/__advance') {
    const { ms, toMs } = parseObject(body);
    const target = typeof toMs === 'number' ? toMs : world.clock.now() + Number(ms ?? 0);
    world.clock.advanceTo(target);
    world.scanDeaths();
    return { offsetMs: world.clock.offsetMs, nowMs: world.clock.now() };
  }
  if (path === '/__clock') return { offsetMs: world.clock.offsetMs, nowMs: world.clock.now() };
  if (path === '/__stats') return world.totals();
  return undefined;
}

function send(response: ServerResponse, reply: Reply): void {
  response
    .writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) })
    .end(reply.body);
}

function handle(request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const [path = '/', search = ''] = (request.url ?? '/').split('?', 2);
    if (path.startsWith('/__')) {
      let answer: unknown;
      try {
        answer = control(request.method ?? 'GET', path, new URLSearchParams(search), body);
      } catch (error) {
        send(response, { status: 500, headers: {}, body: String(error) });
        return;
      }
      send(
        response,
        answer === undefined
          ? { status: 404, headers: {}, body: 'no such control endpoint' }
          : {
              status: 200,
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify(answer),
            },
      );
      return;
    }
    const setup = world.setup;
    if (setup === undefined) {
      send(response, { status: 503, headers: {}, body: 'POST /__setup first' });
      return;
    }
    // The answer is decided on arrival; only its delivery waits.
    const reply = answerService(request, path, body);
    setTimeout(() => send(response, reply), latencyMs(setup));
  });
}

const server = createServer({ keepAliveTimeout: 60_000 }, handle);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  console.log(`PORT ${typeof address === 'object' && address !== null ? address.port : 0}`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
process.on('disconnect', () => process.exit(0));
