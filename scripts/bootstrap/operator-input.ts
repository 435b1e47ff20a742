/**
 * Reading what the operator hands the bootstrap (files named on the command
 * line or in the environment, environment values), so that a missing file or
 * a blank variable is a one-line BootstrapError rather than a stack trace.
 */

import { readFileSync } from 'node:fs';
import { BootstrapError, messageOf } from './errors.js';

/** `what` names the file in the error: "the role settings file ...". */
export function readText(path: string, what: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new BootstrapError(
      `cannot read the ${what} file ${path}: ${(error as NodeJS.ErrnoException).code ?? messageOf(error)}`,
    );
  }
}

/** The PEM at `$VAULT_CACERT`, when it names a file. */
export function readCaCert(path: string | undefined): string | undefined {
  const file = nonEmpty(path);
  return file === undefined ? undefined : readText(file, 'VAULT_CACERT');
}

/** Blank counts as unset, so `VAULT_TOKEN=` is reported as missing, not sent as a token. */
export function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
