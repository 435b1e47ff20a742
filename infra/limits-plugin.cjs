/**
 * osls plugin (serverless.yml `plugins:`): after every package, so before
 * every deploy, measures the packaged stack against the AWS limits in
 * infra/limits.ts (IAM policy sizes, CloudFormation resources and template
 * size, Lambda environment and package sizes). Prints one line per limit
 * near its end and fails the package, once, naming each limit passed with
 * its figure and its fix.
 *
 * CommonJS because osls `require()`s plugins; the TypeScript module is loaded
 * through tsx's API, as infra/package-time.cjs loads its modules.
 */

'use strict';

const { readdirSync, readFileSync, statSync } = require('node:fs');
const { join, resolve } = require('node:path');

const TEMPLATE = 'cloudformation-template-update-stack.json';
/** Limits used past this share are printed, so a growing fleet sees them coming. */
const REPORT_SHARE = 0.5;

/** The uncompressed size of every entry of a zip, from its central directory (yauzl). */
async function unzippedBytes(file) {
  const yauzl = require('yauzl');
  return new Promise((done, fail) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true }, (error, zip) => {
      if (error) return fail(error);
      let total = 0;
      zip.on('entry', (entry) => {
        total += entry.uncompressedSize;
        zip.readEntry();
      });
      zip.on('end', () => done(total));
      zip.on('error', fail);
      zip.readEntry();
    });
  });
}

class PackageLimits {
  constructor(serverless, options, { log }) {
    this.serverless = serverless;
    this.options = options;
    this.log = log;
    this.hooks = { 'after:package:finalize': () => this.check() };
  }

  async check() {
    const { tsImport } = await import('tsx/esm/api');
    const limits = await tsImport('./limits.ts', __filename);
    const dir = resolve(
      this.serverless.serviceDir,
      this.options.package ?? this.serverless.service.package.path ?? '.serverless',
    );
    const templateText = readFileSync(join(dir, TEMPLATE), 'utf8');
    const artifacts = [];
    for (const name of readdirSync(dir).filter((file) => file.endsWith('.zip'))) {
      const file = join(dir, name);
      artifacts.push({
        name,
        zippedBytes: statSync(file).size,
        unzippedBytes: await unzippedBytes(file),
      });
    }
    const measures = [
      ...limits.measureTemplate(JSON.parse(templateText), templateText),
      ...limits.measureArtifacts(artifacts),
    ];
    const over = limits.exceeded(measures);
    if (over.length > 0) {
      throw new this.serverless.classes.Error(limits.describeExceeded(over), 'AWS_LIMIT_EXCEEDED');
    }
    const near = measures.filter((m) => m.value > m.max * REPORT_SHARE);
    for (const measure of near)
      this.log.warning(`near an AWS limit: ${limits.describeMeasure(measure)}`);
    this.log.notice(
      `AWS limits: all ${measures.length} within bounds${near.length > 0 ? ` (${near.length} past half)` : ''}`,
    );
  }
}

module.exports = PackageLimits;
