/**
 * A real HTTP(S) server on a loopback port whose answers each test scripts:
 * the client under test goes through undici and a real socket; only Vault's
 * behaviour is faked, at the wire.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http, {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, e.g. `/v1/sys/health?standbyok=true`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type Reply =
  | {
      readonly status: number;
      readonly headers?: Readonly<Record<string, string>>;
      /** Serialised as JSON. */
      readonly json?: unknown;
      /** Sent as is (wins over `json`). */
      readonly text?: string;
    }
  /** Never answers (until the server closes). */
  | 'hang'
  /** Drops the connection without an answer. */
  | 'destroy';

export type Script = (request: RecordedRequest, index: number) => Reply;

export interface ScriptedVault {
  /** e.g. `http://127.0.0.1:41234` */
  readonly address: string;
  readonly requests: RecordedRequest[];
  /** TCP connections accepted so far. */
  connections(): number;
  /** Replaces the script for the following requests. */
  answer(script: Script): void;
  close(): Promise<void>;
}

export interface TlsMaterial {
  readonly certPem: string;
  readonly keyPem: string;
}

export async function startScriptedVault(
  script: Script,
  options: { readonly tls?: TlsMaterial } = {},
): Promise<ScriptedVault> {
  let current = script;
  let connections = 0;
  const requests: RecordedRequest[] = [];
  const listener = (incoming: IncomingMessage, response: ServerResponse): void => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const recorded: RecordedRequest = {
        method: incoming.method ?? '',
        url: incoming.url ?? '',
        headers: incoming.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(recorded);
      const reply = current(recorded, requests.length - 1);
      if (reply === 'hang') return;
      if (reply === 'destroy') {
        incoming.socket.destroy();
        return;
      }
      const text = reply.text ?? (reply.json === undefined ? '' : JSON.stringify(reply.json));
      response.writeHead(reply.status, {
        ...(text === '' ? {} : { 'content-type': 'application/json' }),
        ...reply.headers,
      });
      response.end(text);
    });
  };
  const server =
    options.tls === undefined
      ? http.createServer(listener)
      : https.createServer({ cert: options.tls.certPem, key: options.tls.keyPem }, listener);
  server.on(options.tls === undefined ? 'connection' : 'secureConnection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    address: `${options.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`,
    requests,
    connections: () => connections,
    answer(next) {
      current = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A self-signed certificate for 127.0.0.1/localhost, made by the openssl CLI at test time. */
export function selfSignedCertificate(): TlsMaterial {
  const dir = mkdtempSync(join(tmpdir(), 'vault-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    return {
      certPem: readFileSync(join(dir, 'cert.pem'), 'utf8'),
      keyPem: readFileSync(join(dir, 'key.pem'), 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Vault's error envelope. */
export function vaultErrors(status: number, ...errors: string[]): Reply {
  return { status, json: { errors } };
}

/** A success envelope with Vault's usual top-level keys, overridden by `fields`. */
export function vaultOk(fields: Record<string, unknown>): Reply {
  return {
    status: 200,
    json: {
      request_id: '6b1d8f3c-0000-4000-8000-000000000001',
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: null,
      wrap_info: null,
      warnings: null,
      auth: null,
      ...fields,
    },
  };
}
