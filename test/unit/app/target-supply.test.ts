import { describe, expect, it } from 'vitest';
import { createTargetSupply } from '../../../functions/app/target-supply.js';
import type { ObjectRead, ObjectReader } from '../../../functions/aws/s3-object-reader.js';
import { renderTargetLines } from '../../../functions/config/target-lines.js';
import { renewerConfig, targetConfig } from '../../support/targets.js';

/** Answers the reads in turn: an object, unchanged, or a failure. */
function readerOf(...answers: (ObjectRead | Error)[]): ObjectReader & { reads: number } {
  const reader = {
    reads: 0,
    async read() {
      const answer = answers[Math.min(reader.reads, answers.length - 1)];
      reader.reads += 1;
      if (answer instanceof Error) throw answer;
      return answer as ObjectRead;
    },
  };
  return reader;
}

const object = (...names: string[]): ObjectRead => ({
  changed: true,
  text: renderTargetLines(names.map((n) => targetConfig(n))),
  etag: `"${names.join('-')}"`,
});

const base = {
  ...renewerConfig([targetConfig('inline')]),
  targetsObject: { key: 'targets.jsonl' },
};
const warnings: string[] = [];
const logger = { warn: (message: string) => warnings.push(message) };

describe('the targets a run works with', () => {
  it('adds the object to the inline targets, and keeps them while the object is unchanged', async () => {
    const supply = createTargetSupply(base, readerOf(object('a', 'b'), { changed: false }), logger);
    const first = await supply.current();
    expect(first.targets.map((t) => t.name)).toEqual(['inline', 'a', 'b']);
    expect(await supply.current()).toBe(first);
  });

  it('keeps the last good list when a later read fails or the object turns bad', async () => {
    const bad: ObjectRead = { changed: true, text: 'not json\n', etag: '"bad"' };
    const supply = createTargetSupply(
      base,
      readerOf(object('a'), new Error('AccessDenied'), bad),
      logger,
    );
    const first = await supply.current();
    expect(await supply.current()).toBe(first);
    expect(await supply.current()).toBe(first);
    expect(warnings).toHaveLength(2);
  });

  it('cannot start without a first good read, and refuses a name both lists hold', async () => {
    await expect(
      createTargetSupply(base, readerOf(new Error('NoSuchKey')), logger).current(),
    ).rejects.toThrow('NoSuchKey');
    await expect(
      createTargetSupply(base, readerOf(object('inline')), logger).current(),
    ).rejects.toThrow(/inline: is also a target of the config file/);
  });
});
