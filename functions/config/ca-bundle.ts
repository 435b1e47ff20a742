/**
 * Reads the CA bundle named by `vault.caCertFile` and checks that it holds
 * X.509 certificates, so a wrong or truncated file fails the deploy instead
 * of the first TLS handshake.
 */

import { X509Certificate } from 'node:crypto';
import { resolve } from 'node:path';
import { quote } from './issues.js';

/** Reads a text file; the loader's seam for tests and bundlers. */
export type ReadTextFile = (path: string) => string;

export type CaBundleResult = { readonly pem: string } | { readonly problem: string };

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Only the certificate blocks are kept: comments, and anything that does not
 * belong in a trust bundle (a private key pasted by mistake), are dropped.
 */
export function readCaBundle(
  file: string,
  baseDir: string,
  readFile: ReadTextFile,
): CaBundleResult {
  let text: string;
  try {
    text = readFile(resolve(baseDir, file));
  } catch (error) {
    return {
      problem: `cannot read ${quote(file)} (relative to ${quote(baseDir)}): ${reason(error)}`,
    };
  }
  if (typeof text !== 'string') {
    return { problem: `cannot read ${quote(file)}: the reader returned ${typeof text}` };
  }
  const blocks = text.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) {
    return { problem: 'holds no PEM certificate ("-----BEGIN CERTIFICATE-----")' };
  }
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return {
        problem: `certificate ${index + 1} of ${blocks.length} is not a valid X.509 certificate`,
      };
    }
  }
  return { pem: `${blocks.join('\n')}\n` };
}

/** `ENOENT`, `EACCES`, ... when Node gives a code; otherwise a clipped message. */
function reason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code !== '') return code;
  return error instanceof Error ? quote(error.message) : 'unknown error';
}
