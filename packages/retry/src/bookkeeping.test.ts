import type { RecordHeaders } from '@evkit/envelope';
import type { IncomingRecord, OutgoingRecord } from '@evkit/transport';
import { MAX_ATTEMPTS, parseDeadLetterHeaders, parseRetryBookkeeping } from './bookkeeping';
import { DLT_HEADERS, int32, int64, RETRY_HEADERS } from './headers';
import { DLQ, dlqRecords, GROUP, settle, setup, TOPIC } from './routing.test-support';

const TIER = `${TOPIC}.${GROUP}.retry.10`;
const YEAR_MS = 365 * 24 * 3600 * 1000;
const tierDelayOf = (source: string, topic: string) => (source === TOPIC && topic === TIER ? 10 : undefined);

/** The bookkeeping routing writes on a record sent to the 10 ms tier. */
function retryHeaders(overrides: Record<string, string | string[] | undefined> = {}): RecordHeaders {
  const now = Date.now();
  const headers: RecordHeaders = {
    [RETRY_HEADERS.attempt]: '1',
    [RETRY_HEADERS.notBefore]: String(now),
    [RETRY_HEADERS.originalTopic]: TOPIC,
    [RETRY_HEADERS.originalPartition]: '0',
    [RETRY_HEADERS.originalOffset]: '7',
    [RETRY_HEADERS.originalTimestamp]: String(now - 50),
    [RETRY_HEADERS.firstFailure]: String(now - 40),
  };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete headers[name];
    else headers[name] = value;
  }
  return headers;
}

const recordOn = (topic: string, headers: RecordHeaders): IncomingRecord => ({ topic, partition: 1, offset: '3', timestamp: 1, key: 'k', value: null, headers });

// Each forged value evkit must refuse: the header it names.
const FORGED: [string, Record<string, string | string[] | undefined>, string][] = [
  ['an original offset that is not a number', { [RETRY_HEADERS.originalOffset]: 'abc' }, RETRY_HEADERS.originalOffset],
  ['a negative original offset', { [RETRY_HEADERS.originalOffset]: '-1' }, RETRY_HEADERS.originalOffset],
  ['an original offset past 64 bits', { [RETRY_HEADERS.originalOffset]: '9223372036854775808' }, RETRY_HEADERS.originalOffset],
  ['an invalid first-failure time', { [RETRY_HEADERS.firstFailure]: 'yesterday' }, RETRY_HEADERS.firstFailure],
  ['a first-failure time past any Date', { [RETRY_HEADERS.firstFailure]: '9999999999999999' }, RETRY_HEADERS.firstFailure],
  ['a partition out of range', { [RETRY_HEADERS.originalPartition]: '2147483648' }, RETRY_HEADERS.originalPartition],
  ['a negative partition', { [RETRY_HEADERS.originalPartition]: '-1' }, RETRY_HEADERS.originalPartition],
  ['an attempt count past the bound', { [RETRY_HEADERS.attempt]: String(MAX_ATTEMPTS + 1) }, RETRY_HEADERS.attempt],
  ['an attempt count of zero', { [RETRY_HEADERS.attempt]: '0' }, RETRY_HEADERS.attempt],
  ['a not-before that is not a number', { [RETRY_HEADERS.notBefore]: '1e21' }, RETRY_HEADERS.notBefore],
  ['an original topic that is no Kafka name', { [RETRY_HEADERS.originalTopic]: 'a/b' }, RETRY_HEADERS.originalTopic],
  ['an original topic of another source', { [RETRY_HEADERS.originalTopic]: 'payments' }, RETRY_HEADERS.originalTopic],
  ['a megabyte-long value', { [RETRY_HEADERS.originalOffset]: '1'.repeat(1024 * 1024) }, RETRY_HEADERS.originalOffset],
  ['a repeated header', { [RETRY_HEADERS.attempt]: ['1', '2'] }, RETRY_HEADERS.attempt],
  ['a missing header', { [RETRY_HEADERS.firstFailure]: undefined }, RETRY_HEADERS.firstFailure],
];

describe('parseRetryBookkeeping', () => {
  it('reads what routing writes', () => {
    const result = parseRetryBookkeeping(recordOn(TIER, retryHeaders()), tierDelayOf);
    expect(result).toMatchObject({ ok: true, bookkeeping: { attempt: 1, source: { topic: TOPIC, partition: 0, offset: '7' }, retry: { tierDelayMs: 10 } } });
  });

  it('takes a record without bookkeeping as its own source', () => {
    const result = parseRetryBookkeeping(recordOn(TOPIC, { ce_id: 'x' }), tierDelayOf);
    expect(result).toEqual({ ok: true, bookkeeping: { attempt: 0, source: { topic: TOPIC, partition: 1, offset: '3', timestamp: 1 }, firstFailureAt: undefined, retry: undefined } });
  });

  it.each(FORGED)('refuses %s, naming the header, and reads the record as fresh', (_what, overrides, header) => {
    const result = parseRetryBookkeeping(recordOn(TIER, retryHeaders(overrides)), tierDelayOf);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toMatchObject({ code: 'EVKIT_RETRY_MALFORMED_HEADERS', header, retriable: false });
    expect(result.error.message.length).toBeLessThan(300);
    expect(result.bookkeeping).toMatchObject({ attempt: 0, source: { topic: TIER, partition: 1, offset: '3' }, retry: undefined });
  });

  it('refuses bookkeeping on a record not read from a retry topic (an ordinary record with forged headers)', () => {
    const result = parseRetryBookkeeping(recordOn(TOPIC, retryHeaders()), tierDelayOf);
    expect(result).toMatchObject({ ok: false, error: { code: 'EVKIT_RETRY_MALFORMED_HEADERS', header: RETRY_HEADERS.originalTopic } });
  });
});

describe('parseDeadLetterHeaders', () => {
  it('reads malformed values as absent and says why', () => {
    const parsed = parseDeadLetterHeaders({
      [DLT_HEADERS.originalTopic]: '../etc',
      [DLT_HEADERS.originalPartition]: int32(-5),
      [DLT_HEADERS.originalOffset]: Buffer.from('abc'),
      [DLT_HEADERS.originalTimestamp]: int64(12),
      [DLT_HEADERS.attempts]: '1e9',
      [DLT_HEADERS.firstFailure]: 'not a time',
      [DLT_HEADERS.exceptionMessage]: `password=hunter2 ${'x'.repeat(1024 * 1024)}`,
    });
    expect(parsed.original).toEqual({ topic: undefined, partition: undefined, offset: undefined, timestamp: '12' });
    expect(parsed.attempts).toBeUndefined();
    expect(parsed.firstFailure).toBeUndefined();
    expect(parsed.problems).toHaveLength(5);
    expect(parsed.errorMessage).not.toContain('hunter2');
    expect(parsed.errorMessage!.length).toBeLessThan(2200);
  });
});

describe('forged bookkeeping on the in-memory broker', () => {
  /** `forged` then two good records of the same key on the 10 ms tier; `good` handled in order, `forged` dead-lettered once. */
  async function runWithForged(overrides: Record<string, string | string[] | undefined>, onTopic: 'tier' | 'source', mode: 'blocking' | 'non-blocking' = 'non-blocking') {
    const { broker, encode, consumerWith } = setup({ mode });
    const topic = onTopic === 'tier' ? TIER : TOPIC;
    const [forged, good1, good2] = await encode(['k', 'k', 'k'], topic);
    const withHeaders = (record: OutgoingRecord, headers: RecordHeaders): OutgoingRecord => ({ ...record, headers: { ...record.headers, ...headers } });
    await broker.publisher().send([
      withHeaders(forged!, retryHeaders(overrides)),
      withHeaders(good1!, onTopic === 'tier' ? retryHeaders() : {}),
      withHeaders(good2!, onTopic === 'tier' ? retryHeaders() : {}),
    ]);
    const handled: string[] = [];
    const consumer = consumerWith(async (event) => void handled.push(event.id));
    await consumer.start();
    await settle(broker, () => handled.length === 2 && dlqRecords(broker).length === 1);
    await new Promise((r) => setTimeout(r, 50)); // time for a second, wrong, dead-lettering
    await broker.idle();
    await consumer.stop();
    const idOf = (record: OutgoingRecord) => String(record.headers.ce_id);
    expect(handled).toEqual([idOf(good1!), idOf(good2!)]);
    const dead = dlqRecords(broker);
    expect(dead).toHaveLength(1);
    const [stored] = broker.topic(topic).records();
    expect(String(dead[0]!.headers.ce_id)).toBe(idOf(forged!));
    expect(String(dead[0]!.headers[DLT_HEADERS.errorCode])).toBe('EVKIT_RETRY_MALFORMED_HEADERS');
    expect(String(dead[0]!.headers[DLT_HEADERS.handler])).toBe('(malformed-headers)');
    // Dead-lettered as a fresh record, to its source's dead-letter topic: where it was read, not where its headers claim.
    expect(parseDeadLetterHeaders(dead[0]!.headers).original).toMatchObject({ topic, partition: stored!.partition, offset: stored!.offset });
    expect(Object.keys(dead[0]!.headers).filter((h) => h.startsWith('evkit_retry-'))).toEqual([]);
    expect(broker.topic(DLQ).records()).toHaveLength(1);
  }

  it.each(FORGED)('on a retry topic, %s', async (_what, overrides) => {
    await runWithForged(overrides, 'tier');
  });

  it.each([
    ['only a non-numeric original offset', { ...Object.fromEntries(Object.values(RETRY_HEADERS).map((h) => [h, undefined])), [RETRY_HEADERS.originalOffset]: 'abc' }],
    ['a whole, well-formed set', {}],
  ])('on an ordinary record, %s', async (_what, overrides) => {
    await runWithForged(overrides, 'source');
  });

  it('in blocking mode (no retry topics), on an ordinary record', async () => {
    await runWithForged({}, 'source', 'blocking');
  });

  it('clamps a not-before one year ahead to the tier delay: no long timer, no pause loop, the records behind handled in order', async () => {
    const { broker, encode, consumerWith } = setup();
    const records = await encode(['k', 'k', 'k'], TIER);
    const headers = [retryHeaders({ [RETRY_HEADERS.notBefore]: String(Date.now() + YEAR_MS) }), retryHeaders(), retryHeaders()];
    await broker.publisher().send(records.map((record, i) => ({ ...record, headers: { ...record.headers, ...headers[i] } })));
    const transport = broker.subscriber();
    const pauses = jest.spyOn(transport, 'pause');
    const timeouts = jest.spyOn(global, 'setTimeout');
    const warnings: string[] = [];
    const delays: number[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    const handled: string[] = [];
    const consumer = consumerWith(async (event) => void handled.push(event.id), { transport });
    try {
      await consumer.start();
      await settle(broker, () => handled.length === 3, 2000);
      await consumer.stop();
    } finally {
      process.off('warning', onWarning);
      delays.push(...timeouts.mock.calls.map(([, ms]) => ms ?? 0));
      timeouts.mockRestore();
    }
    expect(handled).toEqual(records.map((r) => String(r.headers.ce_id)));
    expect(dlqRecords(broker)).toHaveLength(0);
    expect(Math.max(...delays)).toBeLessThanOrEqual(1000);
    expect(pauses.mock.calls.length).toBeLessThan(5);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});
