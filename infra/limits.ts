/**
 * The AWS limits a deploy of this stack can run into, measured on what
 * `osls package` produced: IAM policy sizes per role, CloudFormation's
 * resource count and template size, each function's environment, and the
 * deployment packages. `infra/limits-plugin.cjs` runs these after every
 * package (and so before every deploy) and fails with the limit, the figure
 * and the fix; the packaging test asserts the figures with margin.
 *
 * IAM counts policy characters without whitespace, after CloudFormation has
 * filled in the intrinsics, so values are rendered first with the longest
 * value each can take (`WORST_CASE`): a template that fits here fits in every
 * partition, region and account.
 */

/** Quotas as AWS documents them (IAM and STS quotas, CloudFormation quotas, Lambda quotas). */
export const AWS_LIMITS = {
  /** All inline policies of one role together, characters without whitespace. */
  iamInlinePolicyCharsPerRole: 10_240,
  /** One customer managed policy. */
  iamManagedPolicyChars: 6_144,
  /** A role's trust policy (default quota; adjustable to 4,096). */
  iamTrustPolicyChars: 2_048,
  /** Managed policies attached to one role (default quota; adjustable to 20). */
  iamManagedPoliciesPerRole: 10,
  cfnResources: 500,
  cfnOutputs: 200,
  /** A template uploaded through S3, as osls deploys it. */
  cfnTemplateBytes: 1_000_000,
  /** All of a function's environment variables, keys and values. */
  lambdaEnvironmentBytes: 4_096,
  /** A .zip deployment package, zipped (direct upload limit; the tighter of the two routes). */
  lambdaZippedBytes: 50 * 1024 * 1024,
  /** The package unzipped, layers included. */
  lambdaUnzippedBytes: 250 * 1024 * 1024,
} as const;

/**
 * The longest value each pseudo parameter can render to. Partition: `aws-us-gov`
 * is the longest in use; region: the longest names today have 14 characters
 * (`ap-southeast-7`), 16 leaves room; references to resources (topic ARNs,
 * role ARNs) render as 256 characters, longer than any of this stack's.
 */
export const WORST_CASE: Readonly<Record<string, string>> = {
  'AWS::Partition': 'aws-us-gov',
  'AWS::Region': 'rr-rrrrrrrrrrr-9',
  'AWS::AccountId': '123456789012',
  'AWS::URLSuffix': 'amazonaws.com.cn',
};
const RESOURCE_REFERENCE = 'x'.repeat(256);

/** One limit measured on one subject (a role, a function, the template). */
export interface LimitMeasure {
  /** What AWS limits, e.g. `IAM inline policies per role`. */
  readonly limit: string;
  /** What was measured, e.g. `RenewRole`. */
  readonly subject: string;
  readonly value: number;
  readonly max: number;
  readonly unit: 'characters' | 'bytes' | 'resources' | 'outputs' | 'policies';
  /** What to do when `value` passes `max`. */
  readonly fix: string;
}

interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}
export interface CfnTemplate {
  readonly Resources: Readonly<Record<string, CfnResource>>;
  readonly Outputs?: Readonly<Record<string, unknown>>;
}

/** A package (zip) osls wrote, by the function it belongs to. */
export interface PackageArtifact {
  readonly name: string;
  readonly zippedBytes: number;
  readonly unzippedBytes: number;
}

/** Renders CloudFormation intrinsics to the longest text they can become (see `WORST_CASE`). */
export function renderWorstCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(renderWorstCase);
  if (typeof value !== 'object' || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  const [first] = entries;
  if (entries.length === 1 && first !== undefined) {
    const [fn, arg] = first;
    if (fn === 'Ref' && typeof arg === 'string') return WORST_CASE[arg] ?? RESOURCE_REFERENCE;
    if (fn === 'Fn::GetAtt') return RESOURCE_REFERENCE;
    if (fn === 'Fn::Sub') return renderSub(arg);
    if (fn === 'Fn::Join' && Array.isArray(arg)) {
      const [separator, parts] = arg as [unknown, unknown];
      if (typeof separator === 'string' && Array.isArray(parts)) {
        return parts.map((part) => String(renderWorstCase(part))).join(separator);
      }
    }
  }
  return Object.fromEntries(entries.map(([key, inner]) => [key, renderWorstCase(inner)]));
}

function renderSub(arg: unknown): string {
  const [text, variables] = Array.isArray(arg) ? arg : [arg, {}];
  const own = (variables ?? {}) as Record<string, unknown>;
  return String(text).replace(/\$\{([^}!][^}]*)\}/g, (_, name: string) => {
    if (name in own) return String(renderWorstCase(own[name]));
    return WORST_CASE[name] ?? RESOURCE_REFERENCE;
  });
}

/** A policy document's size as IAM counts it: rendered, without whitespace. */
export function iamPolicyChars(document: unknown): number {
  return JSON.stringify(renderWorstCase(document)).replace(/\s+/g, '').length;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

const FIX = {
  inlinePolicy:
    'scope secrets by name prefix: declare secretAccess.prefixes in the config, or lay the names out under shared prefixes so they can be derived (docs/deploy.md, "Fleet scale")',
  managedPolicy: 'split the statements over two managed policies, or scope them by prefix',
  trustPolicy: 'trust fewer principals in the role, or ask AWS to raise the quota to 4,096',
  managedPolicies: 'merge managed policies, or ask AWS to raise the quota to 20',
  resources:
    'a per-target resource does not scale: apply it through the AWS API from the deploy step or a run instead of the template, or split the fleet into stacks by secret prefix',
  outputs: 'drop per-target outputs; the functions report per target',
  template:
    'a per-target resource or long list is in the template: move it to the shipped config or the AWS API, or split the fleet into stacks',
  environment:
    'move per-target values into the shipped config file (config/targets.resolved.json); keep the environment to addresses and names',
  zipped:
    'the bundle or the shipped config is too large: split the fleet into stacks by secret prefix, or check what the bundle pulls in (npm run build prints sizes)',
  unzipped: 'as for the zipped size: split the fleet, or slim the bundle',
} as const;

function resourcesOf(template: CfnTemplate, type: string): [string, CfnResource][] {
  return Object.entries(template.Resources).filter(([, resource]) => resource.Type === type);
}

function refersTo(value: unknown, logicalId: string): boolean {
  return (
    typeof value === 'object' && value !== null && (value as { Ref?: unknown }).Ref === logicalId
  );
}

/** Every measure this module knows on a packaged template; `templateText` is the file as uploaded. */
export function measureTemplate(template: CfnTemplate, templateText: string): LimitMeasure[] {
  const measures: LimitMeasure[] = [];

  for (const [roleId, role] of resourcesOf(template, 'AWS::IAM::Role')) {
    const properties = role.Properties ?? {};
    const own = ((properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map(
      (policy) => policy.PolicyDocument,
    );
    // Inline policies attached by separate resources count towards the same role.
    const attached = [
      ...resourcesOf(template, 'AWS::IAM::RolePolicy').filter(([, r]) =>
        refersTo(r.Properties?.RoleName, roleId),
      ),
      ...resourcesOf(template, 'AWS::IAM::Policy').filter(([, r]) =>
        ((r.Properties?.Roles as unknown[] | undefined) ?? []).some((x) => refersTo(x, roleId)),
      ),
    ].map(([, r]) => r.Properties?.PolicyDocument);
    measures.push({
      limit: 'IAM inline policies per role',
      subject: roleId,
      value: [...own, ...attached].reduce<number>((sum, doc) => sum + iamPolicyChars(doc), 0),
      max: AWS_LIMITS.iamInlinePolicyCharsPerRole,
      unit: 'characters',
      fix: FIX.inlinePolicy,
    });
    measures.push({
      limit: 'IAM role trust policy',
      subject: roleId,
      value: iamPolicyChars(properties.AssumeRolePolicyDocument ?? {}),
      max: AWS_LIMITS.iamTrustPolicyChars,
      unit: 'characters',
      fix: FIX.trustPolicy,
    });
    const managed = (properties.ManagedPolicyArns as unknown[] | undefined) ?? [];
    const managedResources = resourcesOf(template, 'AWS::IAM::ManagedPolicy').filter(([, r]) =>
      ((r.Properties?.Roles as unknown[] | undefined) ?? []).some((x) => refersTo(x, roleId)),
    );
    measures.push({
      limit: 'IAM managed policies per role',
      subject: roleId,
      value: managed.length + managedResources.length,
      max: AWS_LIMITS.iamManagedPoliciesPerRole,
      unit: 'policies',
      fix: FIX.managedPolicies,
    });
  }

  for (const [policyId, policy] of resourcesOf(template, 'AWS::IAM::ManagedPolicy')) {
    measures.push({
      limit: 'IAM managed policy',
      subject: policyId,
      value: iamPolicyChars(policy.Properties?.PolicyDocument ?? {}),
      max: AWS_LIMITS.iamManagedPolicyChars,
      unit: 'characters',
      fix: FIX.managedPolicy,
    });
  }

  for (const [functionId, fn] of resourcesOf(template, 'AWS::Lambda::Function')) {
    const variables =
      ((fn.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables as Record<string, unknown> | undefined) ?? {};
    const bytes = Object.entries(variables).reduce(
      (sum, [key, value]) => sum + utf8Bytes(key) + utf8Bytes(String(renderWorstCase(value))),
      0,
    );
    measures.push({
      limit: 'Lambda environment variables',
      subject: functionId,
      value: bytes,
      max: AWS_LIMITS.lambdaEnvironmentBytes,
      unit: 'bytes',
      fix: FIX.environment,
    });
  }

  measures.push(
    {
      limit: 'CloudFormation resources per stack',
      subject: 'template',
      value: Object.keys(template.Resources).length,
      max: AWS_LIMITS.cfnResources,
      unit: 'resources',
      fix: FIX.resources,
    },
    {
      limit: 'CloudFormation outputs per stack',
      subject: 'template',
      value: Object.keys(template.Outputs ?? {}).length,
      max: AWS_LIMITS.cfnOutputs,
      unit: 'outputs',
      fix: FIX.outputs,
    },
    {
      limit: 'CloudFormation template size (through S3)',
      subject: 'template',
      value: utf8Bytes(templateText),
      max: AWS_LIMITS.cfnTemplateBytes,
      unit: 'bytes',
      fix: FIX.template,
    },
  );
  return measures;
}

export function measureArtifacts(artifacts: readonly PackageArtifact[]): LimitMeasure[] {
  return artifacts.flatMap((artifact) => [
    {
      limit: 'Lambda deployment package, zipped',
      subject: artifact.name,
      value: artifact.zippedBytes,
      max: AWS_LIMITS.lambdaZippedBytes,
      unit: 'bytes' as const,
      fix: FIX.zipped,
    },
    {
      limit: 'Lambda deployment package, unzipped',
      subject: artifact.name,
      value: artifact.unzippedBytes,
      max: AWS_LIMITS.lambdaUnzippedBytes,
      unit: 'bytes' as const,
      fix: FIX.unzipped,
    },
  ]);
}

export function exceeded(measures: readonly LimitMeasure[]): LimitMeasure[] {
  return measures.filter((measure) => measure.value > measure.max);
}

const number = (value: number) => value.toLocaleString('en-US');

/** `RenewRole: IAM inline policies per role 1,234 of 10,240 characters (12%)` */
export function describeMeasure(measure: LimitMeasure): string {
  const share = Math.round((measure.value / measure.max) * 100);
  return `${measure.subject}: ${measure.limit} ${number(measure.value)} of ${number(measure.max)} ${measure.unit} (${share}%)`;
}

/** The error text for limits a package passes: one paragraph per limit, with its fix. */
export function describeExceeded(over: readonly LimitMeasure[]): string {
  return [
    `The package is over ${over.length === 1 ? 'an AWS limit' : `${over.length} AWS limits`}; CloudFormation or Lambda would refuse the deploy:`,
    ...over.map((measure) => `  ${describeMeasure(measure)}\n    fix: ${measure.fix}`),
  ].join('\n');
}
