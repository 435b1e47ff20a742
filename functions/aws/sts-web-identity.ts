/**
 * The core's {@link WebIdentityPort} on STS GetWebIdentityToken (IAM outbound
 * identity federation, aws-facts "Added 2026-12-06"): a token of two minutes
 * (it is used at once), RS256, for the target's audience, with the target's
 * name as a request tag that the Vault role is bound to. The renew role may
 * ask for nothing else (its IAM conditions, infra/iam.yml).
 */

import { GetWebIdentityTokenCommand, type STSClient } from '@aws-sdk/client-sts';
import {
  TARGET_TAG_KEY,
  type WebIdentityFailure,
  type WebIdentityPort,
} from '../core/web-identity-port.js';
import { describeAwsFailure } from './errors.js';

/** Long enough to log in with, short enough to be worth nothing afterwards. */
export const TOKEN_SECONDS = 120;
export const SIGNING_ALGORITHM = 'RS256';

/** Refusals that every target of the account meets alike: one shared cause. */
const ACCOUNT_WIDE = new Set([
  'OutboundWebIdentityFederationDisabledException',
  'OutboundWebIdentityFederationDisabled',
  'Throttling',
  'ThrottlingException',
  'AccessDenied',
  'AccessDeniedException',
  'RegionalSignerUnavailableException',
  'SignerNotConfiguredException',
]);

export class WebIdentityError extends Error implements WebIdentityFailure {
  override name = 'WebIdentityError';
  readonly code: string;
  readonly accountWide: boolean;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(`STS GetWebIdentityToken failed: ${code}: ${message}`, options);
    this.code = code;
    this.accountWide = ACCOUNT_WIDE.has(code);
  }
}

export function createStsWebIdentity(client: STSClient): WebIdentityPort {
  return {
    async token(request, options = {}) {
      try {
        const answer = await client.send(
          new GetWebIdentityTokenCommand({
            Audience: [request.audience],
            SigningAlgorithm: SIGNING_ALGORITHM,
            DurationSeconds: TOKEN_SECONDS,
            Tags: [{ Key: TARGET_TAG_KEY, Value: request.target }],
          }),
          options.signal === undefined ? {} : { abortSignal: options.signal },
        );
        const token = answer.WebIdentityToken;
        if (token === undefined || token === '') {
          throw new WebIdentityError('EmptyAnswer', 'the answer holds no WebIdentityToken');
        }
        return token;
      } catch (error) {
        if (error instanceof WebIdentityError) throw error;
        const failure = describeAwsFailure(error);
        throw new WebIdentityError(failure.code, failure.message, { cause: error });
      }
    },
  };
}
