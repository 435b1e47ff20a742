/**
 * A login with no stored secret (a target with `jwt`): STS's
 * GetWebIdentityToken signs a short-lived token for the Vault's audience,
 * tagged with the target, and Vault's jwt auth method logs it in.
 */

/** The request tag (a claim under `https://sts.amazonaws.com/`) naming the target a token is for. */
export const TARGET_TAG_KEY = 'vault-renewer-target';
/** The same claim as Vault's jwt roles bind it: a JSON pointer into the token's claims. */
export const TARGET_CLAIM = `/https:~1~1sts.amazonaws.com~1/request_tags/${TARGET_TAG_KEY}`;

export interface WebIdentityPort {
  /** A signed token for `audience`, tagged with `target`. A bearer credential: never logged. */
  token(
    request: { readonly audience: string; readonly target: string },
    options?: { readonly signal?: AbortSignal },
  ): Promise<string>;
}

/** STS did not sign: why (AWS's code), and whether every target is refused alike. */
export interface WebIdentityFailure extends Error {
  readonly code: string;
  /** Federation off, throttling, a denied role: the account's, not the target's. */
  readonly accountWide: boolean;
}

export function isWebIdentityFailure(error: unknown): error is WebIdentityFailure {
  return (
    error instanceof Error &&
    typeof (error as Partial<WebIdentityFailure>).code === 'string' &&
    typeof (error as Partial<WebIdentityFailure>).accountWide === 'boolean'
  );
}
