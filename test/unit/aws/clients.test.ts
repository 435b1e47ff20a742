import { describe, expect, it } from 'vitest';
import { createAwsClients, DEFAULT_MAX_ATTEMPTS } from '../../../functions/aws/clients.js';

describe('createAwsClients', () => {
  it('gives every client the region and attempt budget it was asked for', async () => {
    const clients = createAwsClients({ region: 'eu-west-1', maxAttempts: 5 });

    expect(await clients.secretsManager.config.region()).toBe('eu-west-1');
    expect(await clients.sns.config.region()).toBe('eu-west-1');
    expect(await clients.eventBridge.config.region()).toBe('eu-west-1');
    expect(await clients.secretsManager.config.maxAttempts()).toBe(5);
    expect(await clients.sns.config.maxAttempts()).toBe(5);
    expect(await clients.eventBridge.config.maxAttempts()).toBe(5);
    clients.secretsManager.destroy();
    clients.sns.destroy();
    clients.eventBridge.destroy();
  });

  it('keeps the SDK default of 3 attempts', async () => {
    const clients = createAwsClients({ region: 'eu-west-1' });

    expect(DEFAULT_MAX_ATTEMPTS).toBe(3);
    expect(await clients.sns.config.maxAttempts()).toBe(3);
    clients.secretsManager.destroy();
    clients.sns.destroy();
    clients.eventBridge.destroy();
  });

  it.each([0, -1, 2.5, Number.NaN])('refuses maxAttempts %s', (maxAttempts) => {
    expect(() => createAwsClients({ region: 'eu-west-1', maxAttempts })).toThrow(RangeError);
  });
});
