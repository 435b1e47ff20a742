/**
 * A fraction of one CPU for the bench's measured programs, the way Lambda
 * sizes a function's CPU by its memory (1,769 MB = 1 vCPU, proportionally
 * less below): a CFS bandwidth quota on a cgroup of their own. cgroup v2
 * (`cpu.max`) where the cpu controller is delegated, else cgroup v1
 * (`cpu.cfs_quota_us`); both need write access to the cgroup tree (root, or
 * a delegated subtree). `taskset` cannot do this: it pins whole cores.
 *
 * Each program is started through `sh`, which moves itself into the cgroup
 * before it execs node, so no instruction runs outside the quota. The canned
 * server stays outside: it stands for Vault and AWS, not for the Lambda.
 */

import { existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The CFS period; the quota is `share` of it. */
const PERIOD_US = 100_000;

export interface CpuShare {
  readonly description: string;
  /** `argv` as a command that runs inside the cgroup. */
  wrap(argv: readonly string[]): string[];
  /** Removes the cgroup (it must be empty: every wrapped program has ended). */
  remove(): void;
}

function cgroupRoot(): { kind: 'v2' | 'v1'; parent: string } {
  const unified = '/sys/fs/cgroup';
  const controllers = join(unified, 'cgroup.controllers');
  if (existsSync(controllers) && readFileSync(controllers, 'utf8').split(/\s+/).includes('cpu')) {
    return { kind: 'v2', parent: unified };
  }
  const v1 = '/sys/fs/cgroup/cpu';
  if (existsSync(join(v1, 'cpu.cfs_quota_us'))) return { kind: 'v1', parent: v1 };
  throw new Error(
    'no cgroup cpu controller found (cgroup v2 cpu.max or v1 cpu.cfs_quota_us): --cpu-share cannot limit the CPU here',
  );
}

export function createCpuShare(share: number): CpuShare {
  if (!(share > 0 && share <= 64)) {
    throw new RangeError(`--cpu-share takes a fraction of one CPU > 0, e.g. 0.29; got ${share}`);
  }
  const { kind, parent } = cgroupRoot();
  const dir = join(parent, `vault-renewer-bench-${process.pid}`);
  const quotaUs = Math.round(share * PERIOD_US);
  try {
    mkdirSync(dir);
    if (kind === 'v2') {
      writeFileSync(join(dir, 'cpu.max'), `${quotaUs} ${PERIOD_US}`);
    } else {
      writeFileSync(join(dir, 'cpu.cfs_period_us'), String(PERIOD_US));
      writeFileSync(join(dir, 'cpu.cfs_quota_us'), String(quotaUs));
    }
  } catch (error) {
    throw new Error(`cannot set a CPU quota in ${dir} (needs write access to the cgroup tree)`, {
      cause: error,
    });
  }
  return {
    description: `a CPU quota of ${quotaUs} us per ${PERIOD_US} us (${share} CPU, cgroup ${kind} ${dir})`,
    wrap: (argv) => ['sh', '-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv],
    remove: () => rmdirSync(dir),
  };
}
