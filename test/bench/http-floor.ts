/**
 * The transport floor of this machine: the Vault requests a renewal run of
 * the canned fleet makes (runner.ts), sent as bare undici requests at the
 * renewer's concurrency, no renewer logic at all. Each target's three
 * requests in turn, with the renewer's method, path, headers and body:
 * token renew-self, secret-id lookup, lease renew; each answer's JSON parsed.
 * The renewer cannot beat it; the bench prints it beside the renewer's own
 * figures and divides the renewer's CPU by its CPU (`cpuRatio`).
 *
 *   node .bench/http-floor.mjs <vault address> <requests> <concurrency>
 */

import { Agent, request } from 'undici';

const [address = '', total = '30000', concurrency = '8'] = process.argv.slice(2);
const requests = Number(total);
const HEADERS = {
  accept: 'application/json',
  'user-agent': 'vault-renewer',
  'x-vault-request': 'true',
  'x-vault-token': 's.bench-not-a-real-token',
  'content-type': 'application/json',
};

/** The `index`-th Vault request of the run: target `index / 3`, one of its three calls. */
function vaultRequest(index: number): { path: string; body: string } {
  const target = Math.floor(index / 3);
  switch (index % 3) {
    case 0:
      return { path: '/v1/auth/token/renew-self', body: '{"increment":3600}' };
    case 1:
      return {
        path: `/v1/auth/approle/role/bench-t${target}/secret-id/lookup`,
        body: '{"secret_id":"bench-secret-id"}',
      };
    default:
      return {
        path: '/v1/sys/leases/renew',
        body: `{"lease_id":"database/creds/bench/bench/t${target}/db","increment":3600}`,
      };
  }
}

const agent = new Agent({ keepAliveTimeout: 10_000 });
let next = 0;
const started = performance.now();
const cpuBefore = process.cpuUsage();
const mainThreadBefore = process.threadCpuUsage();
async function worker(): Promise<void> {
  while (next < requests) {
    const { path, body } = vaultRequest(next);
    next += 1;
    const response = await request(`${address}${path}`, {
      method: 'POST',
      dispatcher: agent,
      headers: HEADERS,
      body,
    });
    JSON.parse(await response.body.text());
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const cpu = process.cpuUsage(cpuBefore);
const mainThread = process.threadCpuUsage(mainThreadBefore);
console.log(
  `FLOOR ${JSON.stringify({
    wallMs: performance.now() - started,
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainThreadCpuMs: (mainThread.user + mainThread.system) / 1000,
  })}`,
);
await agent.close();
