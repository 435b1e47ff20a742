/**
 * The Vault HTTP adapter: implements the core's {@link VaultPort} and
 * {@link VaultInspectionPort} over undici. It moves bytes and maps answers;
 * it never decides what to do about a failure (that is the features' job,
 * branching on `kind`). The work is split by job: `transport.ts` (one
 * exchange, deadline, retries), `retry-timing.ts`, `address.ts`,
 * `decode.ts`, and the endpoint groups built on the transport.
 */

import type { SecretIdPort } from '../core/secret-id-port.js';
import type { VaultInspectionPort } from '../core/vault-inspection-port.js';
import type { VaultPort } from '../core/vault-port.js';
import { inspectionEndpoints } from './inspection-endpoints.js';
import { leaseEndpoints } from './lease-endpoints.js';
import { secretIdEndpoints } from './secret-id-endpoints.js';
import { tokenEndpoints } from './token-endpoints.js';
import { createTransport, type VaultClientOptions } from './transport.js';

export interface VaultClient extends VaultPort, VaultInspectionPort, SecretIdPort {
  /** Closes the client's own Agent (not a dispatcher passed in). */
  close(): Promise<void>;
}

export function createVaultClient(options: VaultClientOptions = {}): VaultClient {
  const { call, close } = createTransport(options);
  return {
    ...tokenEndpoints(call),
    ...leaseEndpoints(call),
    ...inspectionEndpoints(call),
    ...secretIdEndpoints(call),
    close,
  };
}
