export { classifyVaultAnswer, type VaultAnswer } from './classify.js';
export {
  createVaultClient,
  DEFAULT_RETRY_POLICY,
  DEFAULT_TIMEOUT_MS,
  type RetryPolicy,
  type VaultClient,
  type VaultClientOptions,
} from './client.js';
export {
  VaultError,
  type VaultErrorDetails,
  type VaultErrorJson,
  VaultHttpError,
  VaultNetworkError,
  VaultTimeoutError,
  VaultUnexpectedResponseError,
} from './errors.js';
