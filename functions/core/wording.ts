/**
 * Words every feature uses the same way: an SNS subject, a duration, and
 * Vault's answer as report text. Pure; nothing here ever holds a secret.
 */

import { isVaultFailure } from './vault-port.js';

const SUBJECT_MAX_CHARS = 99;

/** Printable ASCII only, no line breaks, at most 99 characters (SNS and e-mail both accept it). */
export function toSubject(text: string): string {
  const ascii = text
    .normalize('NFKD')
    .replace(/[^\x20-\x7e]/g, '')
    .replace(/\s+/g, ' ')
    .trim();
  return ascii.length <= SUBJECT_MAX_CHARS ? ascii : `${ascii.slice(0, SUBJECT_MAX_CHARS - 3)}...`;
}

/** `1h 5m 3s` style. */
export function humanSeconds(totalSeconds: number): string {
  const seconds = Math.max(0, Math.round(totalSeconds));
  const days = Math.floor(seconds / 86_400);
  const hours = Math.floor((seconds % 86_400) / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  const rest = seconds % 60;
  const parts = [
    days ? `${days}d` : '',
    hours ? `${hours}h` : '',
    minutes ? `${minutes}m` : '',
    rest || seconds === 0 ? `${rest}s` : '',
  ].filter(Boolean);
  return parts.join(' ');
}

/** Vault's answer as report text: status and its own error strings (they never hold secrets). */
export function describeAnswer(error: unknown): string {
  if (isVaultFailure(error)) {
    if (error.status === undefined) {
      // No answer from Vault (refused, reset, timed out): the adapter's message
      // carries the network reason, and it never holds a secret.
      return `${error.kind}: ${error.message}`;
    }
    const errors = error.vaultErrors.map((e) => e.replace(/\s+/g, ' ').trim()).join('; ');
    return `${error.status} ${error.kind}${errors ? `: ${errors}` : ''} (${error.path})`;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : 'unknown error';
}
