import { describe, expect, it } from 'vitest';
import { EnvironmentError, loadEnvironment } from '../../../functions/app/environment.js';

const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:vault-renewer-alerts';

describe('loadEnvironment', () => {
  it('reads the topic and defaults the config file to the resolved JSON and the bus to the default one', () => {
    expect(loadEnvironment({ ALERT_TOPIC_ARN: ` ${TOPIC} ` })).toEqual({
      alertTopicArn: TOPIC,
      configFile: 'config/targets.resolved.json',
      serviceName: 'vault-renewer',
      eventBusName: 'default',
    });
  });

  it('reads the event bus by name, and refuses an ARN (the IAM grant is by name)', () => {
    expect(
      loadEnvironment({ ALERT_TOPIC_ARN: TOPIC, EVENT_BUS_NAME: 'credential-changes' }),
    ).toMatchObject({ eventBusName: 'credential-changes' });
    expect(() =>
      loadEnvironment({
        ALERT_TOPIC_ARN: TOPIC,
        EVENT_BUS_NAME: 'arn:aws:events:eu-west-1:123456789012:event-bus/credential-changes',
      }),
    ).toThrow(/EVENT_BUS_NAME must be an event bus name in this account/);
  });

  it('fails naming the missing variable rather than falling back', () => {
    expect(() => loadEnvironment({})).toThrow(EnvironmentError);
    expect(() => loadEnvironment({})).toThrow(/ALERT_TOPIC_ARN is required/);
  });

  it('reports every bad variable at once', () => {
    const attempt = () =>
      loadEnvironment({ ALERT_TOPIC_ARN: 'my-topic', RENEWER_CONFIG_FILE: '  ' });
    expect(attempt).toThrow(/ALERT_TOPIC_ARN must be an SNS topic ARN/);
    expect(attempt).toThrow(/RENEWER_CONFIG_FILE must not be blank/);
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadEnvironment({ ALERT_TOPIC_ARN: TOPIC }))).toBe(true);
  });
});
