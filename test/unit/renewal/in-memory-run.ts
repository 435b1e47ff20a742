/**
 * A renewal run over in-memory ports, for unit tests of the run itself: the
 * caller gives Vault and the store (and, when it matters, the notifier and
 * the logger); everything else is quiet and the run has a minute.
 */

import type { RenewerConfig } from '../../../functions/config/types.js';
import { type RunResult, runRenewal } from '../../../functions/renewal/run.js';
import type { RenewalDeps, RunLogger } from '../../../functions/renewal/run-context.js';

export const silentLogger: RunLogger = { debug() {}, info() {}, warn() {}, error() {} };

export function runInMemory(
  config: RenewerConfig,
  ports: Pick<RenewalDeps, 'vault' | 'store'> &
    Partial<Pick<RenewalDeps, 'notifier' | 'logger' | 'ledger'>>,
  publishWithinMs = 30_000,
  deadlineInMs = 60_000,
): Promise<RunResult> {
  const now = Date.now();
  return runRenewal(
    config,
    {
      notifier: { publish: async () => {} },
      logger: silentLogger,
      serviceName: 'vault-renewer',
      changeEvents: { publish: async () => ({ published: 0, failures: [] }) },
      now: Date.now,
      requestToken: (...parts) => parts.join('/'),
      ...ports,
    },
    {
      runId: 'r',
      dryRun: false,
      forceRelogin: false,
      deadlineAtMs: now + deadlineInMs,
      publishDeadlineAtMs: now + publishWithinMs,
    },
  );
}
