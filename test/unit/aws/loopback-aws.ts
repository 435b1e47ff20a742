/**
 * A real HTTP server on loopback standing in for an AWS JSON-protocol endpoint
 * in the direct-call tests: it records every request and answers with `reply`.
 * `signatureHolds` signs a received request again with the SDK's own signer
 * (the body's hash worked out again from the body received) and compares.
 */

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll } from 'vitest';

export const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
  sessionToken: 'session-token-example',
};

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

export type Reply = { status: number; body: string; headers?: Record<string, string> };

export interface Loopback {
  /** `http://127.0.0.1:<port>`, once the server listens. */
  readonly endpoint: () => string;
  /** The requests received since the last test began. */
  readonly received: () => Received[];
  /** How the server answers from now on. */
  answer(reply: (request: Received) => Reply): void;
  /** Forgets the requests received so far. */
  forget(): void;
}

/** Starts the server for the file's tests (vitest hooks) and stops it after them. */
export function loopbackAws(contentType: string): Loopback {
  let server: Server;
  let endpoint = '';
  let received: Received[] = [];
  let reply: (request: Received) => Reply = () => ({ status: 500, body: '{}' });

  beforeAll(async () => {
    server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const entry = {
          method: request.method ?? '',
          url: request.url ?? '',
          headers: request.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        };
        received.push(entry);
        const answer = reply(entry);
        response
          .writeHead(answer.status, { 'content-type': contentType, ...answer.headers })
          .end(answer.body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    endpoint = `http://127.0.0.1:${address.port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  afterEach(() => {
    received = [];
  });

  return {
    endpoint: () => endpoint,
    received: () => received,
    answer: (next) => {
      reply = next;
    },
    forget: () => {
      received = [];
    },
  };
}

/** A client's config as far as signing goes (every SDK v3 client has it). */
interface Signing {
  readonly config: {
    signer(scheme: {
      name: string;
      signingName: string;
      signingRegion: string;
      properties: Record<string, unknown>;
    }): Promise<{ sign(request: never, options: { signingDate: Date }): Promise<unknown> }>;
  };
}

/** Signs the received request again with the SDK's signer and the same date. */
export async function signatureHolds(
  sdk: Signing,
  signingName: string,
  request: Received,
): Promise<boolean> {
  const signer = await sdk.config.signer({
    name: 'sigv4',
    signingName,
    signingRegion: 'eu-west-1',
    properties: {},
  });
  const authorization = String(request.headers.authorization);
  const signedNames = /SignedHeaders=([^,]+)/.exec(authorization)?.[1]?.split(';') ?? [];
  // The body's hash is worked out again from the body received, not taken from its header.
  const headers = Object.fromEntries(
    signedNames
      .filter((name) => name !== 'x-amz-content-sha256')
      .map((name) => [name, String(request.headers[name])]),
  );
  const amzDate = String(request.headers['x-amz-date']);
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const [hostname = '', port] = String(request.headers.host).split(':');
  const again = (await signer.sign(
    {
      method: request.method,
      protocol: 'http:',
      hostname,
      port: Number(port),
      path: new URL(request.url, 'http://x').pathname,
      query: Object.fromEntries(new URL(request.url, 'http://x').searchParams),
      headers,
      body: request.body,
    } as never,
    { signingDate },
  )) as { headers: Record<string, string> };
  return again.headers.authorization === authorization;
}
