/**
 * The name part of a Secrets Manager secret id: the id itself for a name, and
 * for an ARN the part after `:secret:` without the `-` and six random
 * characters Secrets Manager appends (aws-facts "Secret ARN format"). IAM
 * prefix grants match on it, so prefix checks must too.
 */
export function secretNameOf(secretId: string): string {
  const marker = secretId.startsWith('arn:') ? secretId.indexOf(':secret:') : -1;
  if (marker < 0) return secretId;
  const withSuffix = secretId.slice(marker + ':secret:'.length);
  return withSuffix.replace(/-[A-Za-z0-9]{6}$/, '');
}
