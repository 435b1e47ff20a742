import { createHash } from 'node:crypto';

/**
 * Domain separation: the same parts hashed for another purpose must not yield
 * the same token. Changing it changes every token, so a write retried across a
 * deploy would create a second version: leave it alone.
 */
const NAMESPACE = 'vault-renewer/client-request-token/v1';

/**
 * A name-based UUID for PutSecretValue's `ClientRequestToken`: the same parts
 * always give the same token, so a write retried by a later run or by Lambda
 * is ignored by Secrets Manager instead of creating another version
 * (aws-facts §1.1 "Idempotency": same token + same value is a no-op; the token
 * must be 32-64 characters and AWS recommends a UUID).
 *
 * Like UUIDv5 but over SHA-256 instead of SHA-1, which RFC 9562 §5.8 files
 * under version 8 ("custom"; its Appendix B.2 is exactly this construction).
 * Each part is length-prefixed, so `('ab', 'c')` and `('a', 'bc')` differ.
 */
export function deterministicRequestToken(...parts: string[]): string {
  if (parts.length === 0) {
    throw new TypeError('deterministicRequestToken needs at least one part');
  }
  const hash = createHash('sha256').update(NAMESPACE);
  for (const part of parts) {
    hash.update(`\u0000${Buffer.byteLength(part, 'utf8')}:`).update(part, 'utf8');
  }
  const bytes = hash.digest().subarray(0, 16);
  bytes.writeUInt8((bytes.readUInt8(6) & 0x0f) | 0x80, 6); // version 8
  bytes.writeUInt8((bytes.readUInt8(8) & 0x3f) | 0x80, 8); // RFC 9562 variant (0b10)
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
