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

  it('reads the chat topic when one is given, and takes an empty one for none', () => {
    const chat = 'arn:aws:sns:eu-west-1:123456789012:vault-renewer-chat';

    expect(loadEnvironment({ ALERT_TOPIC_ARN: TOPIC, CHAT_TOPIC_ARN: chat }).chatTopicArn).toBe(
      chat,
    );
    expect(loadEnvironment({ ALERT_TOPIC_ARN: TOPIC, CHAT_TOPIC_ARN: '' })).not.toHaveProperty(
      'chatTopicArn',
    );
    expect(() => loadEnvironment({ ALERT_TOPIC_ARN: TOPIC, CHAT_TOPIC_ARN: 'slack' })).toThrow(
      /CHAT_TOPIC_ARN must be an SNS topic ARN or empty/,
    );
  });

  it('returns a frozen object', () => {
    expect(Object.isFrozen(loadEnvironment({ ALERT_TOPIC_ARN: TOPIC }))).toBe(true);
  });

  it('takes the incident table when named, and none for empty or "none"', () => {
    expect(
      loadEnvironment({
        ALERT_TOPIC_ARN: TOPIC,
        INCIDENT_TABLE_NAME: 'vault-renewer-prod-incidents',
      }).incidentTableName,
    ).toBe('vault-renewer-prod-incidents');
    for (const none of ['', 'none', undefined]) {
      expect(
        loadEnvironment({ ALERT_TOPIC_ARN: TOPIC, INCIDENT_TABLE_NAME: none }),
      ).not.toHaveProperty('incidentTableName');
    }
    expect(() =>
      loadEnvironment({ ALERT_TOPIC_ARN: TOPIC, INCIDENT_TABLE_NAME: '[object Object]' }),
    ).toThrow(/INCIDENT_TABLE_NAME must be a DynamoDB table name/);
  });
});
