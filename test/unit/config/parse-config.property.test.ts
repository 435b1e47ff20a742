import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ConfigError } from '../../../functions/config/errors.js';
import { parseConfig } from '../../../functions/config/load.js';
import type { RenewerConfig } from '../../../functions/config/types.js';

type Outcome = { config: RenewerConfig } | { error: ConfigError };

/** Runs parseConfig and fails the property on anything but a config or a ConfigError. */
function outcomeOf(text: string, format: 'yaml' | 'json'): Outcome {
  // A reader that never touches the disk: junk may name any caCertFile.
  const readFile = () => {
    throw Object.assign(new Error('no such file'), { code: 'ENOENT' });
  };
  try {
    return { config: parseConfig(text, { format, readFile }) };
  } catch (error) {
    if (error instanceof ConfigError) return { error };
    throw error;
  }
}

function assertWellFormed(outcome: Outcome): void {
  if ('config' in outcome) {
    expect(Object.isFrozen(outcome.config)).toBe(true);
    expect(outcome.config.targets.every((target) => Object.isFrozen(target.leases))).toBe(true);
  } else {
    expect(outcome.error.issues.length).toBeGreaterThan(0);
    for (const issue of outcome.error.issues) {
      expect(issue.path).not.toBe('');
      expect(issue.message).not.toBe('');
    }
  }
}

/** Every string inside a value, keys included. */
function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, child]) => [key, ...stringsIn(child)]);
  }
  return [];
}

/** Text made of YAML's own tokens, to reach deeper into the parser than random characters. */
const yamlishText = fc.string({
  unit: fc.constantFrom(
    ...['version', 'targets', 'name', ': ', ':', ' ', '  ', '\n', '\t', '- ', '[', ']', '{', '}'],
    ...[
      ',',
      '"',
      "'",
      '#',
      '|',
      '>',
      '? ',
      '&a ',
      '*a',
      '!t ',
      '!!str ',
      '---\n',
      '...',
      '%YAML 1.2\n',
    ],
    ...['1', '-1', '1.5', 'true', 'null', '~', '0x1F', '.inf', '<<: '],
  ),
  maxLength: 80,
});

/** A string longer than any quote a message may hold. */
const longText = fc.string({ minLength: 61, maxLength: 120 });
const junkValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  longText,
  fc.dictionary(longText, fc.jsonValue({ maxDepth: 1 }), { minKeys: 1, maxKeys: 2 }),
);
/** Mostly valid, so that whole files pass about as often as some field fails. */
const mostly = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 40 }, { arbitrary: junkValue, weight: 1 });
const maybe = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });
const name = fc.oneof(
  { arbitrary: fc.stringMatching(/^[a-z][a-z0-9]{0,6}$/), weight: 30 },
  { arbitrary: fc.constantFrom('-x', 'Upper', ''), weight: 1 },
);
const increment = mostly(fc.integer({ min: 3600, max: 2_764_800 }));

/** Files shaped like configs, with junk mixed in at every level. */
const configShaped = fc.record(
  {
    version: mostly(fc.constant(1)),
    schedule: mostly(fc.record({ intervalMinutes: mostly(fc.integer({ min: 1, max: 59 })) })),
    concurrency: maybe(mostly(fc.integer({ min: 1, max: 64 }))),
    vault: mostly(
      fc.record(
        {
          address: mostly(fc.constantFrom('http://127.0.0.1:8200', 'https://V.example:8200/')),
          namespace: maybe(mostly(fc.constantFrom('', 'a', '/a/b/'))),
        },
        { requiredKeys: ['address'] },
      ),
    ),
    defaults: maybe(
      mostly(
        fc.record(
          {
            incrementSeconds: increment,
            approleMount: mostly(fc.constantFrom('approle', '/x/')),
            notify: mostly(fc.record({ onRelogin: mostly(fc.boolean()) }, { requiredKeys: [] })),
          },
          { requiredKeys: [] },
        ),
      ),
    ),
    targets: mostly(
      fc.array(
        mostly(
          fc.record(
            {
              name: mostly(name),
              tokenSecret: mostly(name.map((n) => `token/${n}`)),
              approle: mostly(fc.record({ secret: mostly(fc.constantFrom('r/a', 'r/b')) })),
              incrementSeconds: increment,
              leases: mostly(
                fc.array(
                  mostly(
                    fc.record({
                      name: mostly(name),
                      secret: mostly(name.map((n) => `lease/${n}`)),
                      reissuePath: mostly(fc.constantFrom('database/creds/a', 'aws/creds/b')),
                    }),
                  ),
                  { maxLength: 3 },
                ),
              ),
            },
            { requiredKeys: ['name', 'tokenSecret', 'approle'] },
          ),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    ),
  },
  { requiredKeys: ['version', 'schedule', 'vault', 'targets'] },
);

describe('parseConfig on arbitrary input', () => {
  it('returns a frozen config or throws a ConfigError for any text', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 400 }),
        fc.constantFrom('yaml', 'json'),
        (text, format) => {
          assertWellFormed(outcomeOf(text, format));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('returns a frozen config or throws a ConfigError for any text made of YAML tokens', () => {
    fc.assert(
      fc.property(yamlishText, (text) => {
        assertWellFormed(outcomeOf(text, 'yaml'));
      }),
      { numRuns: 1500 },
    );
  });

  it('returns a frozen config or throws a ConfigError for any JSON value, as YAML or JSON', () => {
    fc.assert(
      fc.property(junkValue, (value) => {
        assertWellFormed(outcomeOf(stringify(value), 'yaml'));
        assertWellFormed(outcomeOf(JSON.stringify(value), 'json'));
      }),
      { numRuns: 300 },
    );
  });

  it('returns a frozen config or throws a ConfigError for config-shaped junk', () => {
    // Prepare
    const seen = { configs: 0, errors: 0 };

    // Act / Assess
    fc.assert(
      fc.property(configShaped, (file) => {
        const outcome = outcomeOf(JSON.stringify(file), 'json');
        assertWellFormed(outcome);
        if ('config' in outcome) seen.configs += 1;
        else seen.errors += 1;
      }),
      { numRuns: 500 },
    );
    // The generator must reach both outcomes, or the property says little.
    expect(seen.configs).toBeGreaterThan(50);
    expect(seen.errors).toBeGreaterThan(50);
  });

  it('never quotes more than 60 characters of any input string in an error', () => {
    // Prepare
    let longStringsChecked = 0;

    // Act / Assess
    fc.assert(
      fc.property(configShaped, (file) => {
        const outcome = outcomeOf(JSON.stringify(file), 'json');
        if (!('error' in outcome)) return;
        // A clipped quote ends in `..."`; its dots are the clip marker, not input
        // (an input of 60 characters and a dot would otherwise look echoed).
        const message = outcome.error.message.replaceAll('..."', '\u0000"');
        for (const text of stringsIn(file).filter((s) => s.length > 60)) {
          longStringsChecked += 1;
          expect(message).not.toContain(text);
        }
      }),
      { numRuns: 500 },
    );
    expect(longStringsChecked).toBeGreaterThan(20);
  });
});
