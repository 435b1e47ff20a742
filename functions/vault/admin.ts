/**
 * Vault's administrative verbs over the renewer's own transport (deadline,
 * retries, answers classified into typed errors, secrets scrubbed): the
 * bootstrap writes policies, AppRole roles and secret_ids with it. The Lambda
 * functions never import this module, so it stays out of their bundles.
 */

import type { VaultEndpoint } from '../core/vault-port.js';
import { trimSlashes } from './address.js';
import { foundNothing, recordOf } from './decode.js';
import { authenticated, createTransport, type VaultClientOptions } from './transport.js';

/** `LIST` goes out as `GET ?list=true`, the form Vault documents for clients without the verb. */
export type AdminMethod = 'GET' | 'LIST' | 'POST' | 'PUT' | 'DELETE';

export interface AdminCallOptions {
  /** A 404 without errors (nothing there) answers `undefined` instead of failing. */
  readonly missingOk?: boolean;
  /** The call creates something (a secret_id): never retried once Vault may have acted. */
  readonly spends?: boolean;
  /** Values sent in the body that must never appear in an error. */
  readonly secrets?: readonly string[];
  readonly signal?: AbortSignal;
}

export interface VaultAdmin {
  /** The answer's JSON object, or `undefined` for 204 (and 404 with `missingOk`). */
  call(
    method: AdminMethod,
    path: string,
    body?: Readonly<Record<string, unknown>>,
    options?: AdminCallOptions,
  ): Promise<Record<string, unknown> | undefined>;
  close(): Promise<void>;
}

/** An administrator's view of one Vault, authenticated by `token` (never stored). */
export function createVaultAdmin(
  endpoint: VaultEndpoint,
  token: string,
  options: VaultClientOptions = {},
): VaultAdmin {
  const { call, close } = createTransport(options);
  return {
    async call(method, path, body, callOptions = {}) {
      const answer = await call(
        endpoint,
        authenticated(method === 'LIST' ? 'GET' : method, trimSlashes(path), token, {
          ...(method === 'LIST' ? { query: 'list=true' } : {}),
          ...(body === undefined ? {} : { body }),
          ...(callOptions.secrets === undefined ? {} : { secrets: callOptions.secrets }),
          ...(callOptions.spends === true ? { spends: true } : {}),
          ...(callOptions.missingOk === true ? { acceptAnswer: foundNothing } : {}),
        }),
        callOptions.signal === undefined ? undefined : { signal: callOptions.signal },
      );
      if (answer.status === 204 || answer.status === 404) return undefined;
      return recordOf(answer.body);
    },
    close,
  };
}
