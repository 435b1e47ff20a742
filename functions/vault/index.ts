export { classifyVaultAnswer, type VaultAnswer } from './classify.js';
export { createVaultClient, type VaultClient } from './client.js';
export {
  VaultError,
  type VaultErrorDetails,
  type VaultErrorJson,
  VaultHttpError,
  VaultNetworkError,
  VaultTimeoutError,
  VaultUnexpectedResponseError,
} from './errors.js';
export { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry-timing.js';
export { DEFAULT_TIMEOUT_MS, type VaultClientOptions } from './transport.js';
