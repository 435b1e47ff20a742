/** Powertools Logger and Metrics, configured once per process. */

import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'VaultRenewer';

/**
 * `serviceName` is the `service` dimension of every metric and the key of the
 * alarms: serverless.yml sets it per stage (`vault-renewer-<stage>`) so two
 * stages in one account never satisfy each other's heartbeat.
 */
export function createLogger(serviceName: string, functionName: string): Logger {
  return new Logger({ serviceName, persistentKeys: { function: functionName } });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: METRICS_NAMESPACE, serviceName });
}
