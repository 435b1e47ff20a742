/**
 * undici's Agent and its promise `request`, imported by path. The package
 * index also loads fetch, WebSocket, EventSource, the cache and the mocks: a
 * minified bundle of the index is about 535 KB, of these two about 290 KB
 * (measured with esbuild 0.28). The Lambda needs only these two.
 */

import type { Dispatcher, Agent as UndiciAgent } from 'undici';
import requestImpl from 'undici/lib/api/api-request.js';
import AgentImpl from 'undici/lib/dispatcher/agent.js';

export const Agent = AgentImpl as typeof UndiciAgent;

type RequestFn = (
  this: Dispatcher,
  options: Dispatcher.RequestOptions,
) => Promise<Dispatcher.ResponseData>;

/**
 * `dispatcher.request(options)` without relying on undici's index having
 * added `request` to Dispatcher.prototype; works for an Agent and a MockAgent.
 */
export function request(
  dispatcher: Dispatcher,
  options: Dispatcher.RequestOptions,
): Promise<Dispatcher.ResponseData> {
  return (requestImpl as RequestFn).call(dispatcher, options);
}
