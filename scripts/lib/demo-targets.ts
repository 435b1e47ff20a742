/**
 * The targets `npm start` and `npm run diagnose` seed on the local stack, so a
 * console-style event naming one of them is checked before the stack starts.
 */

/** Healthy targets and one of each classic failure, in seeding order. */
export const DEMO_TARGETS = [
  'billing-api',
  'orders-worker',
  'ledger-sync',
  'legacy-cron',
  'reporting',
  'audit-shipper',
  'batch-importer',
] as const;

/** diagnose also shows a stored root token and a secret_id that expires soon. */
export const DIAGNOSE_DEMO_TARGETS = [...DEMO_TARGETS, 'vault-admin', 'payroll'] as const;
