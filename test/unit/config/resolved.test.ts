import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../functions/config/errors.js';
import { loadConfigFile } from '../../../functions/config/load.js';
import {
  DIGEST_SUFFIX,
  loadResolvedConfigFile,
  parseResolvedConfig,
  resolvedConfigDigest,
} from '../../../functions/config/resolved.js';
import { writeResolvedConfig } from '../../../scripts/lib/resolved-config.js';

const resolvedJson = JSON.stringify(loadConfigFile('config/targets.yaml'));

describe('parseResolvedConfig', () => {
  it('reads back exactly what the full loader resolved, frozen', () => {
    const config = parseResolvedConfig(resolvedJson);
    expect(config).toEqual(loadConfigFile('config/targets.yaml'));
    expect(Object.isFrozen(config.targets[0]?.leases)).toBe(true);
  });

  it('names every bad field of a hand-edited file at once', () => {
    const broken = JSON.parse(resolvedJson) as {
      targets: Record<string, unknown>[];
      concurrency: unknown;
    };
    broken.concurrency = 0;
    delete broken.targets[1]?.tokenSecretId;
    (broken.targets[0] as { extra?: boolean }).extra = true;
    const attempt = () => parseResolvedConfig(JSON.stringify(broken), 'x.json');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/concurrency/);
    expect(attempt).toThrow(/targets\[1\]\.tokenSecretId/);
    expect(attempt).toThrow(/targets\[0\]/);
  });

  it('rejects text that is not JSON, naming the file', () => {
    expect(() => parseResolvedConfig('version: 1', 'targets.yaml')).toThrow(
      /targets\.yaml[\s\S]*not valid JSON/,
    );
  });

  it('tells to run the build when the resolved file is missing', () => {
    expect(() => loadResolvedConfigFile('/nonexistent/targets.resolved.json')).toThrow(
      /cannot read \/nonexistent\/targets\.resolved\.json: ENOENT \(run npm run build\)/,
    );
  });

  it('reads the file the build step writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'resolved-'));
    const out = join(dir, 'targets.resolved.json');
    writeResolvedConfig('config/targets.yaml', out);
    expect(loadResolvedConfigFile(out)).toEqual(loadConfigFile('config/targets.yaml'));
    rmSync(dir, { recursive: true });
  });
});

describe('loadResolvedConfigFile and the build digest', () => {
  const withFile = (act: (file: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), 'resolved-digest-'));
    try {
      act(join(dir, 'targets.resolved.json'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('reads a build-written file, digest and all, as the full loader resolved it, frozen', () =>
    withFile((out) => {
      writeResolvedConfig('config/targets.yaml', out);
      expect(readFileSync(`${out}${DIGEST_SUFFIX}`, 'utf8').trim()).toBe(
        resolvedConfigDigest(readFileSync(out, 'utf8')),
      );
      const config = loadResolvedConfigFile(out);
      expect(config).toEqual(loadConfigFile('config/targets.yaml'));
      expect(Object.isFrozen(config.targets[0]?.approle)).toBe(true);
    }));

  it('checks a file edited after the build field by field, whatever the digest says', () =>
    withFile((out) => {
      writeResolvedConfig('config/targets.yaml', out);
      const edited = readFileSync(out, 'utf8').replace('"concurrency":8', '"concurrency":0');
      writeFileSync(out, edited);
      expect(() => loadResolvedConfigFile(out)).toThrow(/concurrency/);
      // Without a digest file too.
      rmSync(`${out}${DIGEST_SUFFIX}`);
      expect(() => loadResolvedConfigFile(out)).toThrow(/concurrency/);
    }));
});
