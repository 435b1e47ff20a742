/**
 * The config's rules that span fields (pure): names and secrets claimed
 * once, rotation settings that agree, increments that outlive the
 * schedule, secret prefixes that cover every secret. The schema
 * (schema.ts) checks each field on its own and runs these over the whole
 * file, even when fields failed, so every problem is reported at once.
 */

import {
  DEFAULT_INCREMENT_SECONDS,
  MAX_INCREMENT_SECONDS,
  MAX_INTERVAL_MINUTES,
} from './bounds.js';
import { formatPath, quote } from './issues.js';
import { secretNameOf } from './secret-name.js';

type Path = (string | number)[];
interface IssueSink {
  addIssue(issue: { code: 'custom'; path: Path; message: string }): void;
}

/**
 * Rules that span fields. The value may be partly invalid here (see `when`),
 * so it is read as `unknown` and only well-typed parts are compared.
 */
export function checkAcrossFields(value: unknown, sink: IssueSink): void {
  const file = asRecord(value);
  if (file === undefined) return;
  const targets = asArray(file.targets) ?? [];
  // Only when `vault` is absent or a mapping: a malformed `vault` is reported once, by itself.
  const checkAddresses = file.vault === undefined || asRecord(file.vault) !== undefined;
  const rootAddress = asRecord(file.vault)?.address;

  checkTargetSource(file, sink);

  const targetNames = new Claims<string>();
  const secrets = new Claims<SecretUse>();
  targets.forEach((entry, t) => {
    const target = asRecord(entry);
    if (target === undefined) return;
    const here: Path = ['targets', t];
    checkLogin(target, here, sink);

    const [firstName] = targetNames.claim(target.name, formatPath([...here, 'name']));
    if (firstName !== undefined) {
      sink.addIssue(issue([...here, 'name'], `is the same name as ${firstName}`));
    }

    const targetVault = target.vault === undefined ? {} : asRecord(target.vault);
    if (
      checkAddresses &&
      rootAddress === undefined &&
      targetVault !== undefined &&
      targetVault.address === undefined
    ) {
      sink.addIssue(
        issue([...here, 'vault', 'address'], 'is required: no default vault.address is set'),
      );
    }

    claimSecret(secrets, sink, [...here, 'tokenSecret'], target.tokenSecret, 'written');
    claimSecret(
      secrets,
      sink,
      [...here, 'approle', 'secret'],
      asRecord(target.approle)?.secret,
      'read',
    );

    const leaseNames = new Claims<string>();
    (asArray(target.leases) ?? []).forEach((leaseEntry, l) => {
      const lease = asRecord(leaseEntry);
      if (lease === undefined) return;
      const leasePath: Path = [...here, 'leases', l];
      const [firstLease] = leaseNames.claim(lease.name, formatPath([...leasePath, 'name']));
      if (firstLease !== undefined) {
        sink.addIssue(issue([...leasePath, 'name'], `is the same name as ${firstLease}`));
      }
      claimSecret(secrets, sink, [...leasePath, 'secret'], lease.secret, 'written');
    });
  });

  checkIncrementsOutliveInterval(file, targets, sink);
  checkSecretPrefixes(file, targets, sink);
  checkRotation(file, targets, sink);
}

/**
 * AppRole rotation issues secret_ids through the rotator's token, so it needs
 * a rotator target on the same Vault (address and namespace) and the role's
 * name. Targets that share an AppRole secret share its rotation settings.
 */
function checkRotation(
  file: Record<string, unknown>,
  targets: readonly unknown[],
  sink: IssueSink,
): void {
  const rotatorName = asRecord(file.rotation)?.rotator;
  const defaultRule = asRecord(asRecord(file.defaults)?.rotation)?.approle;
  const rootVault = asRecord(file.vault) ?? {};
  const where = (target: Record<string, unknown>) => {
    const vault = asRecord(target.vault) ?? {};
    return {
      address: vault.address ?? rootVault.address,
      namespace: vault.namespace ?? rootVault.namespace ?? '',
    };
  };
  const records = targets.map(asRecord);
  const rotatorIndex = records.findIndex((target) => target?.name === rotatorName);
  const rotator = records[rotatorIndex];
  if (typeof rotatorName === 'string' && rotator === undefined) {
    sink.addIssue(
      issue(['rotation', 'rotator'], `names no target: list ${quote(rotatorName)} under targets`),
    );
  }
  const rulesBySecret = new Map<string, { rule: string; path: string }>();
  records.forEach((target, t) => {
    if (target === undefined) return;
    // A jwt target keeps no AppRole secret: its rules are checkLogin's.
    if (target.jwt !== undefined) return;
    const own = asRecord(target.rotation)?.approle;
    const rule = own ?? defaultRule;
    const approle = asRecord(target.approle);
    const secret = approle?.secret;
    if (typeof secret === 'string') {
      const key = JSON.stringify(rule ?? false);
      const earlier = rulesBySecret.get(secret);
      if (earlier === undefined) {
        rulesBySecret.set(secret, {
          rule: key,
          path: formatPath(['targets', t, 'rotation', 'approle']),
        });
      } else if (earlier.rule !== key) {
        sink.addIssue(
          issue(
            ['targets', t, 'rotation', 'approle'],
            `differs from ${earlier.path}: targets sharing an AppRole secret rotate it together, so give them the same rotation.approle`,
          ),
        );
      }
    }
    if (rule === undefined || rule === false || asRecord(rule) === undefined) return;
    const at: Path =
      own === undefined
        ? ['defaults', 'rotation', 'approle']
        : ['targets', t, 'rotation', 'approle'];
    const who = typeof target.name === 'string' ? `target ${quote(target.name)}: ` : '';
    if (typeof rotatorName !== 'string') {
      sink.addIssue(
        issue(
          at,
          `${who}needs rotation.rotator: the target whose token issues and destroys secret_ids`,
        ),
      );
    }
    if (approle !== undefined && approle.role === undefined) {
      sink.addIssue(
        issue(
          ['targets', t, 'approle', 'role'],
          `${who}is required to rotate the AppRole secret (the secret_id is issued for this role)`,
        ),
      );
    }
    if (rotator !== undefined && t !== rotatorIndex) {
      const mine = where(target);
      const theirs = where(rotator);
      if (mine.address !== theirs.address || mine.namespace !== theirs.namespace) {
        sink.addIssue(
          issue(
            at,
            `${who}is on another Vault (address or namespace) than the rotator ${quote(String(rotatorName))}: its secret_ids cannot be issued there`,
          ),
        );
      }
    }
  });
}

interface SecretUse {
  readonly path: string;
  /** The renewer writes token and lease secrets; it only reads AppRole secrets. */
  readonly access: 'written' | 'read';
}

/**
 * A secret the renewer writes must have one owner: two targets writing the
 * same token secret would overwrite each other every run. AppRole secrets are
 * only read, so several targets may share one (one role, several tokens).
 * Ids are compared as written: a name and an ARN of the same secret are not
 * matched, so write ids one way throughout the file.
 */
function claimSecret(
  secrets: Claims<SecretUse>,
  sink: IssueSink,
  path: Path,
  id: unknown,
  access: SecretUse['access'],
): void {
  const use = { path: formatPath(path), access };
  const earlier = secrets.claim(id, use);
  const conflict = earlier.find((other) => other.access === 'written' || access === 'written');
  if (conflict !== undefined) {
    sink.addIssue(
      issue(
        path,
        `is the same secret as ${conflict.path}; the renewer writes token and lease secrets, so each must be used once`,
      ),
    );
  }
}

/**
 * A token or lease renewed for less than the schedule interval expires
 * between two runs every time: Vault counts the increment from now
 * (vault-facts §1.3), and the next run comes one interval later.
 */
function checkIncrementsOutliveInterval(
  file: Record<string, unknown>,
  targets: readonly unknown[],
  sink: IssueSink,
): void {
  const minutes = asRecord(file.schedule)?.intervalMinutes;
  if (!isWholeNumberIn(minutes, 1, MAX_INTERVAL_MINUTES)) return;
  const intervalSeconds = minutes * 60;
  const tooShort = (value: unknown): boolean =>
    isWholeNumberIn(value, 1, MAX_INCREMENT_SECONDS) && value <= intervalSeconds;
  const message = (what: string) =>
    `must be longer than the schedule interval (${intervalSeconds} s), or the ${what} expires between runs`;

  const defaultIncrement = asRecord(file.defaults)?.incrementSeconds;
  if (tooShort(defaultIncrement)) {
    sink.addIssue(issue(['defaults', 'incrementSeconds'], message('token or lease')));
  }
  let reliesOnBuiltIn = false;
  targets.forEach((entry, t) => {
    const target = asRecord(entry);
    if (target === undefined) return;
    if (tooShort(target.incrementSeconds)) {
      sink.addIssue(issue(['targets', t, 'incrementSeconds'], message('token')));
    }
    reliesOnBuiltIn ||= target.incrementSeconds === undefined;
    (asArray(target.leases) ?? []).forEach((leaseEntry, l) => {
      const lease = asRecord(leaseEntry);
      if (lease === undefined) return;
      if (tooShort(lease.incrementSeconds)) {
        sink.addIssue(issue(['targets', t, 'leases', l, 'incrementSeconds'], message('lease')));
      }
      reliesOnBuiltIn ||= lease.incrementSeconds === undefined;
    });
  });
  if (defaultIncrement === undefined && reliesOnBuiltIn && tooShort(DEFAULT_INCREMENT_SECONDS)) {
    sink.addIssue(
      issue(
        ['defaults', 'incrementSeconds'],
        `is required: the built-in default (${DEFAULT_INCREMENT_SECONDS} s) is not longer than the schedule interval (${intervalSeconds} s)`,
      ),
    );
  }
}

/**
 * With declared prefixes IAM grants the renew function read and write under
 * `prefixes.readWrite` and read under `prefixes.readOnly`, so every secret
 * must sit under the prefixes of its kind, and no AppRole secret under a
 * writable one: the renewer must never be able to overwrite credentials it
 * only logs in with. Ids written as ARNs are granted one by one and not
 * checked here.
 */
function checkSecretPrefixes(
  file: Record<string, unknown>,
  targets: readonly unknown[],
  sink: IssueSink,
): void {
  const access = asRecord(file.secretAccess);
  if (access?.byTag !== undefined && (access.prefixes !== undefined || access.tag !== undefined)) {
    sink.addIssue(
      issue(
        ['secretAccess', 'byTag'],
        'grants access by a tag value on its own: leave out prefixes and tag, or byTag',
      ),
    );
  }
  const prefixes = asRecord(access?.prefixes);
  if (prefixes === undefined) return;
  const readWrite = stringsOf(prefixes.readWrite);
  const readOnly = stringsOf(prefixes.readOnly);
  const at: Path = ['secretAccess', 'prefixes'];
  if (readWrite.length === 0)
    sink.addIssue(issue([...at, 'readWrite'], 'must list at least one prefix'));
  if (readOnly.length === 0)
    sink.addIssue(issue([...at, 'readOnly'], 'must list at least one prefix'));
  readOnly.forEach((prefix, i) => {
    const writable = readWrite.find((w) => prefix.startsWith(w));
    if (writable !== undefined) {
      sink.addIssue(
        issue(
          [...at, 'readOnly', i],
          `is inside the writable prefix ${quote(writable)}: AppRole secrets under it could be overwritten by the renew function`,
        ),
      );
    }
  });
  readWrite.forEach((prefix, i) => {
    const readOnlyParent = readOnly.find((r) => prefix.startsWith(r) && prefix !== r);
    if (readOnlyParent !== undefined) {
      sink.addIssue(
        issue(
          [...at, 'readWrite', i],
          `is inside the read-only prefix ${quote(readOnlyParent)}: AppRole secrets created under it later would be writable by the renew function`,
        ),
      );
    }
  });
  if (readWrite.length === 0 || readOnly.length === 0) return;

  const under = (id: unknown, list: readonly string[]) =>
    typeof id !== 'string' || id.startsWith('arn:') || list.some((p) => id.startsWith(p));
  // Secrets outside their kind's prefixes, by list: a layout the prefixes do not
  // fit is one problem per list, not one per secret (50 targets, 150 lines).
  const outsideOf: Record<'readWrite' | 'readOnly', { path: Path; id: string; who: string }[]> = {
    readWrite: [],
    readOnly: [],
  };
  targets.forEach((entry, t) => {
    const target = asRecord(entry);
    if (target === undefined) return;
    const who = typeof target.name === 'string' ? `target ${quote(target.name)}: ` : '';
    if (!under(target.tokenSecret, readWrite)) {
      outsideOf.readWrite.push({
        path: ['targets', t, 'tokenSecret'],
        id: String(target.tokenSecret),
        who,
      });
    }
    const approleSecret = asRecord(target.approle)?.secret;
    if (!under(approleSecret, readOnly)) {
      outsideOf.readOnly.push({
        path: ['targets', t, 'approle', 'secret'],
        id: String(approleSecret),
        who,
      });
    } else if (
      typeof approleSecret === 'string' &&
      // An ARN of this account and region falls under a prefix grant by its name too.
      readWrite.some((p) => secretNameOf(approleSecret).startsWith(p))
    ) {
      sink.addIssue(
        issue(
          ['targets', t, 'approle', 'secret'],
          `${who}${quote(approleSecret)} is under a secretAccess.prefixes.readWrite prefix: the renew function could overwrite it. Give AppRole secrets a prefix of their own`,
        ),
      );
    }
    (asArray(target.leases) ?? []).forEach((leaseEntry, l) => {
      const lease = asRecord(leaseEntry);
      if (lease === undefined || under(lease.secret, readWrite)) return;
      outsideOf.readWrite.push({
        path: ['targets', t, 'leases', l, 'secret'],
        id: String(lease.secret),
        who,
      });
    });
  });
  for (const listName of ['readWrite', 'readOnly'] as const) {
    const list = listName === 'readWrite' ? readWrite : readOnly;
    const found = outsideOf[listName];
    const where = `secretAccess.prefixes.${listName} (${list.map(quote).join(', ')})`;
    if (found.length <= COLLAPSE_AFTER) {
      for (const { path, id, who } of found) {
        sink.addIssue(
          issue(
            path,
            `${who}${quote(id)} is outside ${where}: IAM would deny it. Move the secret under one of them or add its prefix`,
          ),
        );
      }
      continue;
    }
    const examples = found
      .slice(0, COLLAPSE_AFTER)
      .map(({ path, id, who }) => `${quote(id)} (${who}${formatPath(path)})`)
      .join(', ');
    sink.addIssue(
      issue(
        [...at, listName],
        `${found.length} secrets are outside ${where}: IAM would deny them, e.g. ${examples}. Move the secrets under these prefixes or list theirs`,
      ),
    );
  }
}

/** More secrets than this outside one prefix list are told as one problem. */
const COLLAPSE_AFTER = 3;

function stringsOf(value: unknown): string[] {
  return (asArray(value) ?? []).filter((item): item is string => typeof item === 'string');
}

/** Remembers every use of each string value, in file order. */
class Claims<Use> {
  readonly #uses = new Map<string, Use[]>();

  /** Records `use` of `value`; returns the earlier uses of the same value. Non-strings are ignored. */
  claim(value: unknown, use: Use): readonly Use[] {
    if (typeof value !== 'string') return [];
    const earlier = this.#uses.get(value) ?? [];
    this.#uses.set(value, [...earlier, use]);
    return earlier;
  }
}

function issue(path: Path, message: string) {
  return { code: 'custom' as const, path, message };
}

function isWholeNumberIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asArray(value: unknown): readonly unknown[] | undefined {
  return Array.isArray(value) ? value : undefined;
}

/**
 * Where the targets live: in the file, or also in the targets object (S3),
 * whose names IAM cannot know at package time, so access must be granted by
 * prefix or tag; fan-out reads that object, so it needs one.
 */
function checkTargetSource(file: Record<string, unknown>, sink: IssueSink): void {
  const inObject = file.targetsObject !== undefined;
  const listed = file.targets === undefined ? [] : asArray(file.targets);
  // A `targets` that is not a list is reported by itself.
  if (listed !== undefined && listed.length === 0 && !inObject) {
    sink.addIssue(
      issue(
        ['targets'],
        'must list at least one target (or set targetsObject: the targets live in S3)',
      ),
    );
  }
  if (file.fanOut !== undefined && !inObject) {
    sink.addIssue(
      issue(['fanOut'], 'needs targetsObject: the batches are read from the targets object in S3'),
    );
  }
  const access = asRecord(file.secretAccess);
  if (inObject && access?.prefixes === undefined && access?.byTag === undefined) {
    sink.addIssue(
      issue(
        ['targetsObject'],
        'needs secretAccess.prefixes or secretAccess.byTag: the targets in S3 are not known when IAM is packaged',
      ),
    );
  }
}

/**
 * How a target logs in again: with a stored AppRole secret or with a token
 * STS signs (jwt), exactly one. A jwt target has no secret to rotate.
 */
function checkLogin(target: Record<string, unknown>, here: Path, sink: IssueSink): void {
  const approle = target.approle !== undefined;
  const jwt = target.jwt !== undefined;
  if (approle === jwt) {
    sink.addIssue(
      issue(
        here,
        approle
          ? 'has both approle and jwt: give one way to log in again'
          : 'needs approle (a stored AppRole secret) or jwt (a token STS signs, no stored secret) to log in again',
      ),
    );
  }
  const rotation = asRecord(target.rotation);
  if (jwt && rotation !== undefined) {
    for (const kind of ['approle', 'token'] as const) {
      if (rotation[kind] === undefined || rotation[kind] === false) continue;
      sink.addIssue(
        issue(
          [...here, 'rotation', kind],
          'does not apply to a jwt target: it keeps no AppRole secret, and the renewer logs it in again by itself',
        ),
      );
    }
  }
}
