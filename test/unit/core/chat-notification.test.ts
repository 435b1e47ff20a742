import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { deepFreeze } from '../../../functions/config/deep-freeze.js';
import type { TargetConfig } from '../../../functions/config/types.js';
import {
  type ChatAlert,
  composeChatNotification,
  RESOLVED_SEVERITY,
} from '../../../functions/core/chat-notification.js';
import { IncidentState, incidentId } from '../../../functions/core/incident.js';
import {
  composeMessage,
  MACHINE_READABLE_MARKER,
  type NotificationContext,
  parseMessageDocument,
} from '../../../functions/core/notification.js';
import { Severity } from '../../../functions/core/notifier-port.js';
import { type Problem, ProblemCode } from '../../../functions/core/problems.js';

/*
 * The custom-notification schema as AWS documents it ("Custom notifications
 * using Amazon Q Developer in chat applications", Event schema and Parameter
 * details): `version` must be "1.0", `source` must be "custom", `id` is
 * optional, `textType` only "client-markdown", `content.description` is the one
 * content field the documented minimal example cannot do without; every field
 * is a string or a list of strings, `additionalContext` string to string.
 * Strict: a field the schema does not know is a defect here.
 */
const strings = z.array(z.string());
const AmazonQCustomNotification = z.strictObject({
  version: z.literal('1.0'),
  source: z.literal('custom'),
  id: z.string().optional(),
  content: z.strictObject({
    textType: z.literal('client-markdown').optional(),
    title: z.string().optional(),
    description: z.string().min(1),
    nextSteps: strings.optional(),
    keywords: strings.optional(),
  }),
  metadata: z
    .strictObject({
      threadId: z.string().min(1).optional(),
      summary: z.string().optional(),
      eventType: z.string().optional(),
      relatedResources: strings.optional(),
      additionalContext: z.record(z.string(), z.string()).optional(),
    })
    .optional(),
});

/** Our bounds (Slack Block Kit's header, section and context limits), asserted with literal numbers. */
const WithinChatLimits = AmazonQCustomNotification.extend({
  content: AmazonQCustomNotification.shape.content.extend({
    title: z.string().max(150),
    description: z.string().min(1).max(3_000),
    nextSteps: z.array(z.string().max(1_000)).max(5),
    keywords: z.array(z.string().max(50)).max(10),
  }),
});

const target: TargetConfig = deepFreeze({
  name: 'billing-api',
  vault: { address: 'https://vault.example.com:8200', namespace: 'team-a' },
  tokenSecretId: 'billing-api/vault-token',
  approle: { secretId: 'billing-api/approle', mount: 'approle', roleName: 'billing' },
  incrementSeconds: 3600,
  leases: [],
  notify: { onRelogin: false, onReissue: false },
});

const problem: Problem = {
  code: ProblemCode.ReloginBadCredentials,
  severity: Severity.Critical,
  summary: 'The token could not be renewed and logging in again was refused.',
  answer: '400 bad-request: invalid role or secret ID (auth/approle/login)',
  secondsUntilExpiry: 720,
};

const context: NotificationContext = {
  service: 'vault-renewer-prod',
  runId: 'run-1',
  occurredAt: '2026-12-01T10:00:00.000Z',
  intervalSeconds: 900,
  dryRun: false,
};

function alert(overrides: Partial<ChatAlert> = {}): ChatAlert {
  return {
    severity: Severity.Error,
    incident: { id: 'vault-renewer-prod:billing-api:lease-renew-failed', state: 'opened' },
    title: 'Lease renewal failed',
    target: 'billing-api',
    event: ProblemCode.LeaseRenewFailed,
    summary: 'The lease could not be renewed.',
    likelyCause: 'Vault is sealed.',
    fix: 'vault operator unseal',
    vault: 'https://vault.example.com:8200',
    dryRun: false,
    runId: 'run-1',
    occurredAt: '2026-12-01T10:00:00.000Z',
    ...overrides,
  };
}

describe('composeMessage: the chat form', () => {
  it("validates against AWS's custom-notification schema and says what the e-mail says", () => {
    const message = composeMessage(problem, target, context);

    const chat = AmazonQCustomNotification.parse(message.chat);
    expect(chat.content.title).toBe('🔴 CRITICAL: AppRole login refused · billing-api');
    expect(chat.content.description).toContain(`What happened: ${problem.summary}`);
    expect(chat.content.description).toContain(`Vault/AWS answered: ${problem.answer}`);
    expect(chat.content.description).toContain('Time until the credential dies: 12m');
    expect(chat.content.description).toContain(
      'Vault: https://vault.example.com:8200 namespace team-a',
    );
    expect(chat.content.nextSteps?.[0]).toMatch(/^Fix: Check the role's secret_id limits/);
    expect(chat.content.keywords).toEqual(['CRITICAL', 'billing-api', 'relogin-bad-credentials']);
    expect(chat.metadata).toMatchObject({
      summary: 'CRITICAL billing-api: AppRole login refused',
      eventType: 'relogin-bad-credentials',
      relatedResources: ['billing-api'],
      additionalContext: { severity: 'CRITICAL', incidentState: 'opened', runId: 'run-1' },
    });
  });

  it('threads by the incident: service, target and event, the same on every run', () => {
    const first = composeMessage(problem, target, context);
    const next = composeMessage(problem, target, { ...context, runId: 'run-2' });
    const otherStage = composeMessage(problem, target, {
      ...context,
      service: 'vault-renewer-dev',
    });
    const otherEvent = composeMessage(
      { ...problem, code: ProblemCode.ReloginLockedOut },
      target,
      context,
    );

    expect(first.chat?.metadata.threadId).toBe(
      'vault-renewer-prod:billing-api:relogin-bad-credentials',
    );
    expect(next.chat?.metadata.threadId).toBe(first.chat?.metadata.threadId);
    expect(next.chat?.id).not.toBe(first.chat?.id);
    expect(otherStage.chat?.metadata.threadId).not.toBe(first.chat?.metadata.threadId);
    expect(otherEvent.chat?.metadata.threadId).not.toBe(first.chat?.metadata.threadId);
  });

  it('takes the incident from the caller when given, and says where in its life it is', () => {
    const incident = { id: 'incident-42', state: IncidentState.Reminder };

    const chat = composeMessage(problem, target, { ...context, incident }).chat;

    expect(chat?.metadata.threadId).toBe('incident-42');
    expect(chat?.content.title).toBe(
      '🔴 CRITICAL, still open: AppRole login refused · billing-api',
    );
    expect(chat?.metadata.additionalContext.incidentState).toBe('reminder');
  });

  it('keeps the e-mail body, the JSON document and the filter attributes as they were', () => {
    const message = composeMessage(problem, target, { ...context, dryRun: true });

    expect(message.body).toContain(`\n\n${MACHINE_READABLE_MARKER}\n`);
    expect(parseMessageDocument(message.body)).toMatchObject({
      schema: 'vault-renewer/notification/v1',
      event: 'relogin-bad-credentials',
      target: 'billing-api',
      dryRun: true,
    });
    expect(message.body).not.toContain('"version": "1.0"');
    expect(message.attributes).toEqual({
      severity: 'CRITICAL',
      target: 'billing-api',
      event: 'relogin-bad-credentials',
      schema: 'vault-renewer/notification/v1',
      dryRun: 'true',
    });
    expect(message.chat?.content.title).toMatch(/\(dry run\)$/);
    expect(message.chat?.content.keywords).toContain('dry-run');
  });
});

describe('composeChatNotification', () => {
  it.each([
    ['a resolved incident', { incident: { id: 'i', state: IncidentState.Resolved } }],
    ['severity OK', { severity: RESOLVED_SEVERITY }],
  ] as const)('words %s as RESOLVED, with nothing left to do', (_case, overrides) => {
    const chat = WithinChatLimits.parse(
      composeChatNotification(alert(overrides as Partial<ChatAlert>)),
    );

    expect(chat.content.title).toBe('✅ RESOLVED: Lease renewal failed · billing-api');
    expect(chat.content.nextSteps).toEqual([]);
    expect(chat.content.description).not.toContain('Likely cause');
    expect(chat.content.keywords[0]).toBe('RESOLVED');
    expect(chat.metadata?.additionalContext?.incidentState).toBe('resolved');
  });

  it('marks a worsened incident and names the lease', () => {
    const chat = composeChatNotification(
      alert({ incident: { id: 'i', state: IncidentState.Worsened }, lease: 'db' }),
    );

    expect(chat.content.title).toBe('🟠 ERROR, worse: Lease renewal failed · billing-api [db]');
    expect(chat.metadata.relatedResources).toEqual(['billing-api', 'db']);
  });

  it('cuts long text to the limits instead of refusing it, marking the cut', () => {
    const long = alert({
      title: 'T'.repeat(400),
      summary: 'S'.repeat(5_000),
      fix: 'F'.repeat(5_000),
      target: 't'.repeat(120),
    });

    const chat = WithinChatLimits.parse(composeChatNotification(long));

    expect([...chat.content.title]).toHaveLength(150);
    expect(chat.content.title.endsWith('…')).toBe(true);
    expect(chat.content.description).toHaveLength(3_000);
    expect(chat.content.description.endsWith('…')).toBe(true);
    expect(chat.content.nextSteps[0]).toHaveLength(1_000);
    expect(chat.content.keywords[1]).toHaveLength(50);
    expect([...(chat.metadata?.summary ?? '')].length).toBeLessThanOrEqual(150);
  });

  it('never splits an emoji when cutting', () => {
    const chat = composeChatNotification(alert({ title: '🔥'.repeat(200) }));

    expect(chat.content.title).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('shortens a long incident id with a hash, so two long ids still get two threads', () => {
    const prefix = incidentId({
      service: 'vault-renewer-prod',
      subject: 'x'.repeat(200),
      event: 'a',
    });
    const a = composeChatNotification(alert({ incident: { id: `${prefix}-1`, state: 'opened' } }));
    const b = composeChatNotification(alert({ incident: { id: `${prefix}-2`, state: 'opened' } }));

    expect(a.metadata.threadId.length).toBeLessThanOrEqual(128);
    expect(a.metadata.threadId).not.toBe(b.metadata.threadId);
    expect(a.metadata.threadId.startsWith('vault-renewer-prod:xxx')).toBe(true);
  });
});
