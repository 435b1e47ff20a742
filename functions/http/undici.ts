/**
 * undici's Agent, imported by path, and one HTTP exchange over any undici
 * dispatcher. The package index also loads fetch, WebSocket, EventSource, the
 * cache and the mocks: a minified bundle of the index is about 535 KB; the
 * Lambda needs only the Agent.
 *
 * The exchange uses `dispatcher.dispatch` with a handler that collects the
 * body, not undici's `request()`: that one wraps every answer in a Node
 * Readable stream and its consumers. For the small JSON answers Vault gives,
 * the stream was a quarter of the transport's CPU in the bench (issue 13).
 */

import type { Dispatcher, Agent as UndiciAgent } from 'undici';
import AgentImpl from 'undici/lib/dispatcher/agent.js';

export const Agent = AgentImpl as typeof UndiciAgent;

export interface Exchange {
  readonly origin: string;
  readonly path: string;
  readonly method: Dispatcher.HttpMethod;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  /** Aborts the exchange; the promise rejects with the signal's reason. */
  readonly signal: AbortSignal;
}

export interface Answer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The whole body, as UTF-8. */
  readonly text: string;
}

/** Sends one request and reads the whole answer, so the socket goes back to the pool. */
export function exchange(dispatcher: Dispatcher, options: Exchange): Promise<Answer> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<Answer>((resolve, reject) => {
    let controller: Dispatcher.DispatchController | undefined;
    let settled = false;
    const settle = () => {
      settled = true;
      signal.removeEventListener('abort', onAbort);
    };
    function onAbort() {
      if (settled) return;
      settle();
      controller?.abort(signal.reason);
      reject(signal.reason);
    }
    signal.addEventListener('abort', onAbort);

    let status = 0;
    let headers: Answer['headers'] = {};
    const chunks: Buffer[] = [];
    dispatcher.dispatch(
      {
        origin: options.origin,
        path: options.path,
        method: options.method,
        headers: options.headers,
        body: options.body,
      },
      {
        onRequestStart(started) {
          controller = started;
          if (settled) started.abort(signal.reason);
        },
        onResponseStart(_controller, statusCode, responseHeaders) {
          status = statusCode;
          headers = responseHeaders;
        },
        onResponseData(_controller, chunk) {
          chunks.push(chunk);
        },
        onResponseEnd() {
          if (settled) return;
          settle();
          const text =
            chunks.length === 1
              ? (chunks[0] as Buffer).toString('utf8')
              : Buffer.concat(chunks).toString('utf8');
          resolve({ status, headers, text });
        },
        onResponseError(_controller, error) {
          if (settled) return;
          settle();
          reject(error);
        },
      },
    );
  });
}
