import { describe, expect, it } from 'vitest';
import {
  AWS_LIMITS,
  describeExceeded,
  exceeded,
  iamPolicyChars,
  measureTemplate,
  renderWorstCase,
  WORST_CASE,
} from '../../../infra/limits.js';

const POLICY = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Action: 'sns:Publish',
      Resource: { Ref: 'AlertTopic' },
    },
    {
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: {
        // CloudFormation substitutions, not JavaScript ones.
        'Fn::Sub': `arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:a/*`,
      },
    },
  ],
};

describe('renderWorstCase', () => {
  it('fills pseudo parameters with their longest values and resource references with 256 characters', () => {
    const rendered = renderWorstCase(POLICY) as typeof POLICY;
    expect(rendered.Statement[0]?.Resource).toBe('x'.repeat(256));
    expect(rendered.Statement[1]?.Resource).toBe(
      `arn:${WORST_CASE['AWS::Partition']}:secretsmanager:${WORST_CASE['AWS::Region']}:${WORST_CASE['AWS::AccountId']}:secret:a/*`,
    );
  });

  it('joins Fn::Join parts and uses Fn::Sub variables given inline', () => {
    expect(renderWorstCase({ 'Fn::Join': [':', ['a', { Ref: 'AWS::AccountId' }]] })).toBe(
      'a:123456789012',
    );
    expect(renderWorstCase({ 'Fn::Sub': [`\${X}-\${AWS::Partition}`, { X: 'y' }] })).toBe(
      'y-aws-us-gov',
    );
  });
});

describe('iamPolicyChars', () => {
  it('counts the rendered document without whitespace, as IAM does', () => {
    const spaced = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Sid: 'A B' }] };
    expect(iamPolicyChars(spaced)).toBe(JSON.stringify(spaced).length - 1);
  });
});

describe('measureTemplate', () => {
  const role = (statements: number) => ({
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: { Statement: [] },
      Policies: [
        {
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: Array.from({ length: statements }, () => POLICY.Statement[1]),
          },
        },
      ],
    },
  });

  it('adds the inline policies attached by separate resources to their role', () => {
    const template = {
      Resources: {
        Small: role(1),
        Extra: {
          Type: 'AWS::IAM::RolePolicy',
          Properties: { RoleName: { Ref: 'Small' }, PolicyDocument: POLICY },
        },
      },
    };
    const [inline] = measureTemplate(template, JSON.stringify(template));
    expect(inline).toMatchObject({ limit: 'IAM inline policies per role', subject: 'Small' });
    expect(inline?.value).toBe(
      iamPolicyChars(template.Resources.Small.Properties.Policies[0]?.PolicyDocument) +
        iamPolicyChars(POLICY),
    );
  });

  it('reports a role over the limit with its figure and the fix', () => {
    const template = { Resources: { Big: role(100) } };
    const over = exceeded(measureTemplate(template, JSON.stringify(template)));
    expect(over.map((m) => `${m.subject} ${m.limit}`)).toEqual([
      'Big IAM inline policies per role',
    ]);
    expect(over[0]?.value).toBeGreaterThan(AWS_LIMITS.iamInlinePolicyCharsPerRole);
    expect(describeExceeded(over)).toMatch(
      /^The package is over an AWS limit[^\n]*\n {2}Big: IAM inline policies per role [\d,]+ of 10,240 characters \(\d+%\)\n {4}fix: scope secrets by name prefix/,
    );
  });

  it('counts resources, outputs, the template bytes and each function environment', () => {
    const template = {
      Resources: {
        Fn: {
          Type: 'AWS::Lambda::Function',
          Properties: { Environment: { Variables: { TOPIC: { Ref: 'AlertTopic' }, A: 'bc' } } },
        },
      },
      Outputs: { One: {}, Two: {} },
    };
    const measures = measureTemplate(template, 'é');
    const byLimit = Object.fromEntries(measures.map((m) => [m.limit, m.value]));
    expect(byLimit).toEqual({
      'Lambda environment variables': 'TOPIC'.length + 256 + 'A'.length + 'bc'.length,
      'CloudFormation resources per stack': 1,
      'CloudFormation outputs per stack': 2,
      'CloudFormation template size (through S3)': 2,
    });
  });
});
