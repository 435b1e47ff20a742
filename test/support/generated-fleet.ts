/**
 * Config files for fleets of any size, laid out the way docs/deploy.md
 * recommends: a folder per team, and under it one prefix per kind of secret,
 *
 *   teams/<team>/tokens/<app>        token secret (read and written)
 *   teams/<team>/leases/<app>/<name> lease secrets (read and written)
 *   teams/<team>/approle/<app>       AppRole credentials (read only)
 *
 * so IAM can scope the functions by prefix. The result is the config FILE
 * form (what `config/targets.yaml` holds), ready for `yaml.stringify`.
 */

export interface GeneratedFleetOptions {
  readonly targets: number;
  /** Teams the targets are spread over, round robin. Default 10. */
  readonly teams?: number;
  /** Every n-th target has a second lease. Default 5. */
  readonly secondLeaseEvery?: number;
  /** `secretAccess` of the file, as written; absent: none. */
  readonly secretAccess?: Record<string, unknown>;
}

export function teamName(index: number): string {
  return `team-${String(index).padStart(2, '0')}`;
}

export function appName(index: number): string {
  return `app-${String(index).padStart(5, '0')}`;
}

export function generatedFleetConfig(options: GeneratedFleetOptions): Record<string, unknown> {
  const teams = options.teams ?? 10;
  const secondLeaseEvery = options.secondLeaseEvery ?? 5;
  const targets = Array.from({ length: options.targets }, (_, i) => {
    const app = appName(i);
    const team = `teams/${teamName(i % teams)}`;
    const leases = [
      { name: 'db', secret: `${team}/leases/${app}/db`, reissuePath: `database/creds/${app}` },
    ];
    if (i % secondLeaseEvery === 0) {
      leases.push({
        name: 'db-readonly',
        secret: `${team}/leases/${app}/db-readonly`,
        reissuePath: `database/creds/${app}-readonly`,
      });
    }
    return {
      name: app,
      tokenSecret: `${team}/tokens/${app}`,
      approle: { secret: `${team}/approle/${app}`, role: app },
      leases,
    };
  });
  return {
    version: 1,
    schedule: { intervalMinutes: 15 },
    vault: { address: 'https://vault.example.internal:8200' },
    ...(options.secretAccess === undefined ? {} : { secretAccess: options.secretAccess }),
    targets,
  };
}
