/**
 * `npm run build`: validates the target list and writes the resolved JSON the
 * Lambda reads, then bundles each Lambda entry point with esbuild the way
 * serverless-esbuild does for `osls package` (CommonJS, minified, Node 22), and
 * prints each bundle's size.
 *
 * The AWS SDK v3 is left out of the bundle: the nodejs22.x runtime provides
 * it. Bundled, the two clients alone are ~490 KB minified (aws-facts §3.4),
 * which would break the 420 KB budget together with undici; the trade-off is
 * that the SDK version in Lambda is the runtime's, not our lockfile's.
 *
 *   tsx scripts/build.ts [--outdir dist]
 */

import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';
import { RESOLVED_CONFIG_FILE } from '../functions/config/resolved.js';
import { HelpRequested, parseOptions, UsageError } from './lib/options.js';
import { writeResolvedConfig } from './lib/resolved-config.js';
import { configPathFrom, validateConfigFile } from './validate-config.js';

/** Entry points, one per Lambda function. */
export const ENTRY_POINTS = {
  renew: 'functions/renew.ts',
  diagnose: 'functions/diagnose.ts',
} as const;

/**
 * CommonJS with a `.cjs` name: Lambda's runtime looks for the handler file
 * with '', .js, .mjs and .cjs (aws-lambda-nodejs-runtime-interface-client,
 * src/function/module-loader.ts), and
 * `osls invoke local` requires the bundle (it finds `<handler>.cjs` but not
 * `.mjs`). The repository's `"type": "module"` cannot turn a `.cjs` file into
 * ESM, and CommonJS needs no `createRequire` banner for the bundled CJS
 * dependencies. Cold import measured the same as the ESM bundle (~95 ms).
 */
export const BUNDLE_FILE = 'index.cjs';

/** Shared with serverless-esbuild, so `osls package` writes the same bytes (infra/esbuild-plugins.cjs). */
const BUNDLE_PLUGINS = createRequire(import.meta.url)('../infra/esbuild-plugins.cjs') as Plugin[];

/** Provided by the Lambda nodejs22.x runtime. */
export const EXTERNAL_PACKAGES = ['@aws-sdk/*'] as const;

export async function bundle(outdir: string): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const [name, entry] of Object.entries(ENTRY_POINTS)) {
    const outfile = join(outdir, name, BUNDLE_FILE);
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      minify: true,
      platform: 'node',
      target: 'node22',
      format: 'cjs',
      mainFields: ['module', 'main'],
      external: [...EXTERNAL_PACKAGES],
      legalComments: 'none',
      // Error class names stay readable in logs and errorType ("ConfigError", not "Ht").
      keepNames: true,
      plugins: BUNDLE_PLUGINS,
      logLevel: 'warning',
    });
    sizes[name] = statSync(outfile).size;
  }
  return sizes;
}

const USAGE = `Usage: npm run build [-- --outdir dir]

Validates RENEWER_CONFIG (default config/targets.yaml), writes the resolved config
(${RESOLVED_CONFIG_FILE}) and bundles the three functions into <outdir>/<name>/
(default dist). npm run package does this and then osls package.

  --outdir dir   where the bundles go (default dist)
  -h, --help     this text`;

const isMain = import.meta.url === `file://${process.argv[1]}`;
if (isMain) {
  // The build runs where only the project's own code is (packaging), so it
  // answers --help and a wrong option itself rather than through lib/command.ts.
  let outdir: string | undefined;
  try {
    outdir = parseOptions({ outdir: { type: 'string', default: 'dist' } }, USAGE).outdir;
  } catch (error) {
    if (error instanceof HelpRequested) console.log(error.usage);
    else if (error instanceof UsageError) {
      console.error(`npm run build: ${error.message}`);
      process.exitCode = 2;
    } else throw error;
  }
  if (outdir !== undefined) await buildAll(outdir);
}

async function buildAll(outdir: string): Promise<void> {
  const configPath = configPathFrom([], process.env);
  const validation = validateConfigFile(configPath);
  if (!validation.ok) {
    console.error(validation.report);
    process.exitCode = 1;
    return;
  }
  console.log(validation.summary);
  writeResolvedConfig(configPath, RESOLVED_CONFIG_FILE);
  console.log(`resolved config: ${RESOLVED_CONFIG_FILE}`);
  const sizes = await bundle(outdir);
  for (const [name, bytes] of Object.entries(sizes)) {
    console.log(`${name}: ${join(outdir, name, BUNDLE_FILE)} ${(bytes / 1024).toFixed(1)} KB`);
  }
}
