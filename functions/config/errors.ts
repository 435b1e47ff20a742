/**
 * The one error the config loader throws. It carries every problem found in
 * the file at once, each named by the path of the field it is about, so a bad
 * file fails the deploy with a list a human can fix in one pass.
 */

export interface ConfigIssue {
  /** Where the problem is: `targets[1].leases[0].reissuePath`, or `(root)` for the document itself. */
  readonly path: string;
  /** What is wrong, without the field's value beyond a short clipped quote. */
  readonly message: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: readonly ConfigIssue[];

  /**
   * @param issues at least one problem; each becomes a line of the message.
   * @param source the file the config came from, when it came from one.
   */
  constructor(issues: readonly ConfigIssue[], options: { source?: string; cause?: unknown } = {}) {
    const { source, cause } = options;
    const where = source === undefined ? 'renewer config' : `renewer config ${source}`;
    const count = issues.length === 1 ? '1 problem' : `${issues.length} problems`;
    const lines = issues.map((issue) => `  ${issue.path}: ${issue.message}`);
    super(
      [`Invalid ${where} (${count}):`, ...lines].join('\n'),
      cause === undefined ? {} : { cause },
    );
    this.issues = Object.freeze(issues.map((issue) => Object.freeze({ ...issue })));
  }
}
