import {
  type EventBridgeClient,
  PutEventsCommand,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import {
  CHANGE_EVENT_DETAIL_TYPE,
  CHANGE_EVENT_SOURCE,
  CHANGE_EVENTS_PER_PUT,
  type ChangeEventFailure,
  type ChangeEventPublisher,
  type CredentialChange,
} from '../core/change-events-port.js';
import { describeAwsFailure } from './errors.js';

/**
 * One PutEvents request carries at most 256 KB of entries, counted as AWS
 * counts them (EventBridge user guide, "Calculating PutEvents event entry
 * size"). A change event is a few hundred bytes, so the count limit binds
 * first; the size is checked anyway so no request is refused whole.
 */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;
/**
 * A call can succeed while some entries fail (`FailedEntryCount`); the SDK
 * retries only whole calls. These entry codes are worth another try
 * (PutEvents API reference, `PutEventsResultEntry.ErrorCode`).
 */
const RETRYABLE_ENTRY_CODES = new Set(['InternalFailure', 'ThrottlingException']);
/** Tries per entry, the first included. */
export const ENTRY_ATTEMPTS = 3;
const ENTRY_RETRY_DELAY_MS = 100;

export interface EventBridgePublisherOptions {
  readonly client: EventBridgeClient;
  /** The bus's name (`default` for the account's default bus) or ARN. */
  readonly eventBusName: string;
}

export function createEventBridgePublisher(
  options: EventBridgePublisherOptions,
): ChangeEventPublisher {
  const { client, eventBusName } = options;

  async function put(
    batch: readonly CredentialChange[],
    signal: AbortSignal | undefined,
  ): Promise<{ published: number; failures: ChangeEventFailure[] }> {
    let published = 0;
    let pending = [...batch];
    const failures: ChangeEventFailure[] = [];
    for (let attempt = 1; pending.length > 0; attempt += 1) {
      let answers: readonly PutEventsResultEntry[];
      try {
        const output = await client.send(
          new PutEventsCommand({ Entries: pending.map((change) => toEntry(change, eventBusName)) }),
          signal === undefined ? {} : { abortSignal: signal },
        );
        answers = output.Entries ?? [];
      } catch (error) {
        // The SDK has retried the call already (throttling, 5xx, network).
        const failure = describeAwsFailure(error);
        failures.push(...pending.map((change) => ({ change, ...pick(failure) })));
        break;
      }
      const retry: CredentialChange[] = [];
      for (const [index, change] of pending.entries()) {
        const answer = answers[index];
        if (answer === undefined) {
          failures.push({
            change,
            code: 'MalformedResponse',
            message: `PutEvents answered ${answers.length} entries for ${pending.length} sent`,
          });
        } else if (answer.ErrorCode === undefined || answer.ErrorCode === '') {
          published += 1;
        } else if (RETRYABLE_ENTRY_CODES.has(answer.ErrorCode) && attempt < ENTRY_ATTEMPTS) {
          retry.push(change);
        } else {
          failures.push({ change, code: answer.ErrorCode, message: answer.ErrorMessage ?? '' });
        }
      }
      pending = retry;
      if (pending.length > 0 && !(await pause(ENTRY_RETRY_DELAY_MS * attempt, signal))) {
        failures.push(
          ...pending.map((change) => ({
            change,
            code: 'AbortError',
            message: 'the deadline passed before the failed entries could be put again',
          })),
        );
        break;
      }
    }
    return { published, failures };
  }

  return {
    async publish(changes, publishOptions) {
      let published = 0;
      const failures: ChangeEventFailure[] = [];
      for (const batch of packBatches(changes, eventBusName)) {
        if ('tooLarge' in batch) {
          failures.push({
            change: batch.tooLarge,
            code: 'EntryTooLarge',
            message: `the event takes more than the ${PUT_EVENTS_MAX_BYTES} bytes PutEvents accepts`,
          });
          continue;
        }
        const outcome = await put(batch.changes, publishOptions?.signal);
        published += outcome.published;
        failures.push(...outcome.failures);
      }
      return { published, failures };
    },
  };
}

/** The PutEvents entry of a change: its fields by name, so nothing else can slip into `detail`. */
export function toEntry(change: CredentialChange, eventBusName: string): PutEventsRequestEntry {
  const detail = {
    target: change.target,
    kind: change.kind,
    name: change.name,
    secretArn: change.secretArn,
    versionId: change.versionId,
    reason: change.reason,
    expiresAt: change.expiresAt,
  };
  return {
    EventBusName: eventBusName,
    Source: CHANGE_EVENT_SOURCE,
    DetailType: CHANGE_EVENT_DETAIL_TYPE,
    Detail: JSON.stringify(detail),
    // Rules may match on `resources`; only ARNs belong there.
    ...(change.secretArn.startsWith('arn:') ? { Resources: [change.secretArn] } : {}),
  };
}

/** An entry's size as EventBridge counts it against the request limit (bus name and id excluded). */
export function entrySizeBytes(entry: PutEventsRequestEntry): number {
  const bytes = (text: string | undefined) =>
    text === undefined ? 0 : Buffer.byteLength(text, 'utf8');
  return (
    (entry.Time === undefined ? 0 : 14) +
    bytes(entry.Source) +
    bytes(entry.DetailType) +
    bytes(entry.Detail) +
    (entry.Resources ?? []).reduce((sum, resource) => sum + bytes(resource), 0)
  );
}

type Batch = { readonly changes: CredentialChange[] } | { readonly tooLarge: CredentialChange };

/** Groups of at most {@link CHANGE_EVENTS_PER_PUT} entries and {@link PUT_EVENTS_MAX_BYTES}, in order. */
export function packBatches(changes: readonly CredentialChange[], eventBusName: string): Batch[] {
  const batches: Batch[] = [];
  let current: CredentialChange[] = [];
  let currentBytes = 0;
  for (const change of changes) {
    const size = entrySizeBytes(toEntry(change, eventBusName));
    if (size > PUT_EVENTS_MAX_BYTES) {
      batches.push({ tooLarge: change });
      continue;
    }
    if (current.length === CHANGE_EVENTS_PER_PUT || currentBytes + size > PUT_EVENTS_MAX_BYTES) {
      batches.push({ changes: current });
      current = [];
      currentBytes = 0;
    }
    current.push(change);
    currentBytes += size;
  }
  if (current.length > 0) batches.push({ changes: current });
  return batches;
}

function pick(failure: { code: string; message: string }): { code: string; message: string } {
  return { code: failure.code, message: failure.message };
}

/** Waits `ms`; false when `signal` aborted first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
