import { describe, expect, it } from 'vitest';
import { sharedCauseOf } from '../../../functions/renewal/alerting.js';
import { readFailureProblem } from '../../../functions/renewal/target-problems.js';
import { targetConfig } from '../../support/targets.js';

const failed = (code: string) => ({
  ok: false as const,
  failure: { secretId: 'app/token', code, message: 'as AWS said it' },
});

describe('a secret read that failed', () => {
  it("is Secrets Manager's trouble, told once for every target, when the service throttled or was out of reach", () => {
    const target = targetConfig('app');
    for (const code of ['ThrottlingException', 'ECONNREFUSED', 'TimeoutError']) {
      const problem = readFailureProblem(failed(code), 'token secret');
      expect(problem?.sharedCause).toBe('secretsmanager');
      expect(problem && sharedCauseOf(problem, target)).toEqual({
        id: 'secretsmanager',
        label: 'Secrets Manager',
      });
    }
  });

  it("is the target's own when the secret itself is missing, denied or undecryptable, whatever the message says", () => {
    const target = targetConfig('app');
    for (const code of [
      'ResourceNotFoundException',
      'AccessDeniedException',
      'DecryptionFailure',
    ]) {
      const problem = readFailureProblem(
        { ok: false, failure: { secretId: 'a', code, message: 'ThrottlingException upstream' } },
        'token secret',
      );
      expect(problem?.sharedCause).toBeUndefined();
      expect(problem && sharedCauseOf(problem, target)).toBeUndefined();
    }
  });
});
