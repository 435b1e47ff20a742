/**
 * What ends a bootstrap run on purpose. main.ts prints these as one line and
 * exits 1; any other error is a bug and keeps its stack.
 */

/** The run cannot go on: bad input, or Vault/AWS refused. Exit 1, message to stderr. */
export class BootstrapError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BootstrapError';
  }
}

/** The token about to be stored is not one the renewer may manage. Nothing was written. */
export class RefusedTokenError extends BootstrapError {
  public constructor(reason: string) {
    super(`refusing to store the token: ${reason}. Nothing was written to Secrets Manager.`);
    this.name = 'RefusedTokenError';
  }
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
