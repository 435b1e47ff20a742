export { ConfigError, type ConfigIssue } from './errors.js';
export { type ConfigFormat, loadConfigFile, type ParseConfigOptions, parseConfig } from './load.js';
export type { LeaseConfig, NotifyConfig, RenewerConfig, TargetConfig } from './types.js';
