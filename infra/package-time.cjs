/**
 * osls variable source: `${file(./infra/package-time.cjs):<key>}` in serverless.yml
 * and infra/*.yml. Loads the target list with the project's one config loader
 * (functions/config/load.ts, the full schema: a bad file fails the package with
 * every problem listed), reads the stage params, and returns the values computed
 * by infra/package-time-values.ts (IAM resources, schedule, VPC, optional
 * resources).
 *
 * The target list is `config/targets.yaml`, or the file named by RENEWER_CONFIG,
 * the same variable `npm run build` reads to write config/targets.resolved.json.
 * That JSON is what the function reads at run time, so it must be the same
 * config the IAM statements were derived from: when it is missing or differs,
 * packaging stops and says to run `npm run package` (which writes it first).
 *
 * CommonJS because osls `require()`s variable files; the TypeScript modules are
 * loaded through tsx's API, as `npm run build` loads them.
 */

'use strict';

const { readFileSync } = require('node:fs');
const { resolve } = require('node:path');

const SERVICE_DIR = resolve(__dirname, '..');
const DEFAULT_CONFIG = 'config/targets.yaml';
const RESOLVED_CONFIG = 'config/targets.resolved.json';

/** Problems a person fixes (config, params, the shipped config): named, never a stack trace. */
class PackageTimeError extends Error {
  name = 'PackageTimeError';
}
const PERSON_FIXES = new Set([
  'PackageTimeError',
  'PackageParamsError',
  'ConfigError',
  'SecretScopeError',
]);

/** The config and the TypeScript modules, loaded once per osls process. */
let loaded;

async function load() {
  const { tsImport } = await import('tsx/esm/api');
  const { loadConfigFile } = await tsImport('../functions/config/load.ts', __filename);
  const values = await tsImport('./package-time-values.ts', __filename);
  const fromEnv = process.env.RENEWER_CONFIG;
  const configPath = resolve(
    SERVICE_DIR,
    fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_CONFIG,
  );
  const config = loadConfigFile(configPath);
  assertShippedConfigMatches(config, configPath);
  return { values, config };
}

function assertShippedConfigMatches(config, configPath) {
  const resolvedPath = resolve(SERVICE_DIR, RESOLVED_CONFIG);
  let shipped;
  try {
    shipped = JSON.parse(readFileSync(resolvedPath, 'utf8'));
  } catch (error) {
    throw new PackageTimeError(
      `${RESOLVED_CONFIG} is missing or unreadable (${error.code ?? error.message}): run \`npm run package\`, which writes it from ${configPath} before packaging`,
    );
  }
  if (JSON.stringify(shipped) !== JSON.stringify(config)) {
    throw new PackageTimeError(
      `${RESOLVED_CONFIG} was not written from ${configPath}: the IAM statements would not match the targets the function reads. Run \`npm run package\` (with the same RENEWER_CONFIG), which writes it first`,
    );
  }
}

/**
 * osls resolves each `${file(...)}` reference on its own and reports every
 * failure with its stack, so one bad param came out a dozen times in 150
 * lines. A problem a person fixes is printed once, alone, and ends the
 * command; anything else (a bug) goes to osls with its stack.
 */
function failOnce(error) {
  if (!PERSON_FIXES.has(error?.name)) throw error;
  process.stderr.write(`\nError:\n${error.message}\n`);
  process.exit(1);
}

module.exports = async ({ resolveVariable }) => {
  // osls may call this before the params can be resolved: resolveVariable then
  // throws an error that asks osls to call again later, which it does.
  const params = {};
  loaded ??= load();
  const { values, config } = await loaded.catch(failOnce);
  for (const name of values.PARAM_NAMES) {
    const value = await resolveVariable(`param:${name}`);
    params[name] = value === null || value === undefined ? '' : String(value);
  }
  try {
    return values.packageTimeValues(config, params);
  } catch (error) {
    return failOnce(error);
  }
};
