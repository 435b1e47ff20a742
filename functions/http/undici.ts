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

const Agent = AgentImpl as typeof UndiciAgent;

/** The dispatcher a client sends through, and how to close it when it is the client's own. */
export interface OwnedDispatcher {
  readonly dispatcher: Dispatcher;
  /** Closes the Agent made here; a dispatcher passed in is its owner's to close. */
  close(): Promise<void>;
}

/**
 * `given` when there is one (tests pass a MockAgent), else a keep-alive Agent
 * of the client's own. Lambda freezes between invocations; a reused socket
 * that died meanwhile fails fast with a network error, which the callers
 * retry (Vault) or hand to the SDK (Secrets Manager).
 */
export function dispatcherFor(
  given: Dispatcher | undefined,
  connect: { readonly ca?: string } = {},
): OwnedDispatcher {
  if (given !== undefined) return { dispatcher: given, close: async () => {} };
  const agent = new Agent({ connect, keepAliveTimeout: 10_000 });
  return { dispatcher: agent, close: () => agent.close() };
}

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

/**
 * Sends one request and reads the whole answer, so the socket goes back to the
 * pool. The promise settles one turn of the event loop after the answer ends:
 * undici hands the socket back to its pool then (client-h1.js, for servers that
 * close a connection they said they would keep), and a request made before
 * that would open a second connection.
 */
export function exchange(dispatcher: Dispatcher, options: Exchange): Promise<Answer> {
  const { signal } = options;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<Answer>((resolve, reject) => {
    const pending = new PendingExchange(signal, resolve, reject);
    track(signal, pending);
    try {
      dispatcher.dispatch(
        {
          origin: options.origin,
          path: options.path,
          method: options.method,
          headers: options.headers,
          body: options.body,
        },
        pending,
      );
    } catch (error) {
      // undici's own dispatchers report through the handler; another may throw.
      pending.fail(error);
    }
  });
}

/**
 * The exchanges in flight under each signal. A run passes one signal to
 * thousands of calls, 64 at a time: one `abort` listener per signal aborts
 * them all, where a listener per call would add and remove an EventTarget
 * listener on every request.
 *
 * A plain array, each exchange knowing its slot, and a finished one swapped
 * out with the last: not a Set. A Set that churns rehashes into a new table
 * every few calls, and each old table keeps its entries and a link to the
 * next; once a collection has moved one table to the old generation, that
 * chain keeps every later exchange (its headers, its undici request) alive
 * until the next full collection. In the bench that was most of the renewer's
 * garbage-collection CPU (docs/benchmark.md).
 */
const inFlightBySignal = new WeakMap<AbortSignal, PendingExchange[]>();

function track(signal: AbortSignal, pending: PendingExchange): void {
  let inFlight = inFlightBySignal.get(signal);
  if (inFlight === undefined) {
    const exchanges: PendingExchange[] = [];
    inFlight = exchanges;
    inFlightBySignal.set(signal, exchanges);
    signal.addEventListener(
      'abort',
      () => {
        for (const each of [...exchanges]) each.abort(signal.reason);
      },
      { once: true },
    );
  }
  pending.slot = inFlight.length;
  inFlight.push(pending);
}

function untrack(signal: AbortSignal, pending: PendingExchange): void {
  const inFlight = inFlightBySignal.get(signal);
  if (inFlight === undefined || pending.slot < 0) return;
  const last = inFlight.pop() as PendingExchange;
  if (last !== pending) {
    inFlight[pending.slot] = last;
    last.slot = pending.slot;
  }
  pending.slot = -1;
}

/** One exchange's dispatch handler: collects the answer, settles once. */
class PendingExchange implements Dispatcher.DispatchHandler {
  /** Its index among the exchanges in flight under its signal; -1 when not there. */
  public slot = -1;
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  private status = 0;
  private headers: Answer['headers'] = {};
  private readonly chunks: Buffer[] = [];

  constructor(
    private readonly signal: AbortSignal,
    private readonly resolve: (answer: Answer) => void,
    private readonly reject: (reason: unknown) => void,
  ) {}

  /** Ends the exchange with `error` (settles once; leaves the signal's set). */
  fail(error: unknown): void {
    if (this.settle()) this.reject(error);
  }

  abort(reason: unknown): void {
    if (this.settle()) {
      this.controller?.abort(reason as Error);
      this.reject(reason);
    }
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.settled) controller.abort(this.signal.reason as Error);
  }

  onResponseStart(
    _controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: Answer['headers'],
  ): void {
    this.status = statusCode;
    this.headers = headers;
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (!this.settle()) return;
    const { chunks } = this;
    const text =
      chunks.length === 1
        ? (chunks[0] as Buffer).toString('utf8')
        : Buffer.concat(chunks).toString('utf8');
    const answer: Answer = { status: this.status, headers: this.headers, text };
    // After undici's own `setImmediate` that frees the socket, which it makes
    // once this returns: a microtask runs after that, its Immediate after undici's.
    queueMicrotask(() => setImmediate(this.resolve, answer));
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    if (this.settle()) this.reject(error);
  }

  /** Marks the exchange settled; false when it already was. */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    untrack(this.signal, this);
    return true;
  }
}
