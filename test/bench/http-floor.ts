/**
 * The transport floor of this machine: N bare undici POSTs to the canned
 * server at the renewer's concurrency, no renewer logic at all. The renewer
 * cannot beat it; the bench prints it beside the renewer's own figures.
 *
 *   node .bench/http-floor.mjs <url> <requests> <concurrency>
 */

import { Agent, request } from 'undici';

const [url = '', total = '20000', concurrency = '64'] = process.argv.slice(2);
const agent = new Agent({ keepAliveTimeout: 10_000 });
let next = 0;
const started = performance.now();
const cpuBefore = process.cpuUsage();
async function worker(): Promise<void> {
  while (next < Number(total)) {
    next += 1;
    const response = await request(url, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json', 'x-vault-token': 'floor' },
      body: '{"increment":3600}',
    });
    JSON.parse(await response.body.text());
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const cpu = process.cpuUsage(cpuBefore);
console.log(
  `FLOOR ${JSON.stringify({ wallMs: performance.now() - started, cpuMs: (cpu.user + cpu.system) / 1000 })}`,
);
await agent.close();
