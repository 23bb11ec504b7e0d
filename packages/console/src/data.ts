import { createAvroCodec, createRegistryClient } from '@evkit/codec';
import { errorMessageOf, redactSecrets, redactUrl } from '@evkit/errors';
import { createReplayer, parkedTopicFor, type DeadLetterEntry, type Replayer } from '@evkit/retry';
import { createKafkaJsPublisher, createKafkaJsSubscriber } from '@evkit/transport-kafkajs';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import { createSamples } from './samples';
import type { ConsoleGroupLag, ResolvedOptions } from './options';

// What the pages show, read from Kafka and the registry. Every text that leaves here has been
// through redactSecrets: a record header or an error message may carry a credential.

/** Groups evkit itself makes to scan, replay, park or measure: not the user's. */
const INTERNAL_GROUP = /^evkit-(replay|park|dlq-scan|lag|dlq-depth)\b/;
const MAX_RECORDS = 500;
const DLQ_SUFFIX = '.dlq';

export interface DeadLetterTopicSummary {
  topic: string;
  sourceTopic: string | undefined;
  group: string | undefined;
  parkedTopic: string;
  /** Records the topic holds, parked ones included. */
  records: number;
  parked: number;
  /** Records not parked. */
  pending: number;
  /** Records added a minute over the last minutes, or null before two samples. */
  growthPerMinute: number | null;
}

export interface ConsoleData {
  readonly replayer: Replayer;
  info(): { brokers: string[]; registry: string };
  deadLetterTopics(): Promise<DeadLetterTopicSummary[]>;
  records(topic: string): Promise<unknown[]>;
  lag(): { groups: ConsoleGroupLag[]; history: Record<string, { at: number; offsetLag: number; timeLagMs: number | null }[]>; sampledAt: number | null; error: string | null };
  sampleLag(): Promise<void>;
  subjects(): Promise<string[]>;
  schemaHistory(subject: string): Promise<unknown>;
  close(): Promise<void>;
}

const safe = (text: string | undefined) => (text === undefined ? undefined : redactSecrets(text));

function headerTexts(entry: DeadLetterEntry): Record<string, string> {
  const texts: Record<string, string> = {};
  for (const [name, value] of Object.entries(entry.record.headers)) {
    if (value === null || value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    // Spring's binary integers read as numbers in `original`; here they show as hex.
    const shown = values.map((v) => (typeof v === 'string' ? v : /^(kafka_dlt-original-(partition|offset|timestamp))$/.test(name) ? `0x${v.toString('hex')}` : v.toString('utf8')));
    texts[name] = redactSecrets(shown.join(', ')).slice(0, 4096);
  }
  return texts;
}

export function createConsoleData(options: ResolvedOptions): ConsoleData {
  const kafkaOptions = { ...options.kafka, logLevel: options.kafka.logLevel ?? logLevel.NOTHING };
  const { brokers = [], clientId = 'evkit-console', ssl, sasl, connectionTimeout, requestTimeout } = kafkaOptions;
  const kafka = options.kafka.kafka ?? new Kafka({ brokers, clientId, ssl, sasl, connectionTimeout, requestTimeout, logLevel: kafkaOptions.logLevel });
  let admin: Admin | undefined;
  const adminClient = async () => {
    if (!admin) {
      const created = kafka.admin();
      await created.connect();
      admin = created;
    }
    return admin;
  };
  const { transports } = options;
  const publisher = transports ? transports.publisher() : createKafkaJsPublisher(kafkaOptions);
  const subscriber = transports ? () => transports.subscriber() : () => createKafkaJsSubscriber({ ...kafkaOptions, sessionTimeout: 10_000 });
  const replayer = createReplayer({ publisher, subscriber, now: options.now });
  const codec = createAvroCodec({ registry: options.registry, autoRegister: false });
  const registry = createRegistryClient(options.registry);
  const growth = createSamples<number>(15 * 60_000);
  const lagHistory = createSamples<{ offsetLag: number; timeLagMs: number | null }>(10 * 60_000);
  let latestLag: { groups: ConsoleGroupLag[]; sampledAt: number | null; error: string | null } = { groups: [], sampledAt: null, error: null };

  const held = async (a: Admin, topic: string) => (await a.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(BigInt(p.high) - BigInt(p.low)), 0);

  const userGroups = async () => {
    const { groups } = await (await adminClient()).listGroups();
    return groups.filter((g) => !INTERNAL_GROUP.test(g.groupId)).map((g) => g.groupId).sort();
  };
  /**
   * The groups whose lag is sampled: the ones the options name, else those with members now. A
   * shared cluster keeps every group that ever committed, and each lagging one costs a read.
   */
  const watchedGroups = async () => {
    if (options.groups !== undefined) return [...options.groups];
    const ids = await userGroups();
    if (ids.length === 0) return [];
    const { groups } = await (await adminClient()).describeGroups(ids);
    return groups.filter((g) => g.members.length > 0).map((g) => g.groupId).sort();
  };

  return {
    replayer,
    info: () => ({ brokers: brokers.map((b) => redactUrl(b)), registry: redactUrl(options.registry.url) }),

    async deadLetterTopics() {
      const a = await adminClient();
      const topics = new Set(await a.listTopics());
      const groups = await userGroups();
      const now = options.now();
      const summaries: DeadLetterTopicSummary[] = [];
      const deadLetterTopics = [...topics].filter((t) => t.endsWith(DLQ_SUFFIX)).sort();
      const counts = await Promise.all(deadLetterTopics.map(async (topic) => [await held(a, topic), topics.has(parkedTopicFor(topic)) ? await held(a, parkedTopicFor(topic)) : 0] as const));
      for (const [i, topic] of deadLetterTopics.entries()) {
        const group = groups.filter((g) => topic.endsWith(`.${g}${DLQ_SUFFIX}`)).sort((x, y) => y.length - x.length)[0];
        const parkedTopic = parkedTopicFor(topic);
        const [records, parked] = counts[i]!;
        growth.add(topic, now, records);
        summaries.push({
          topic,
          group,
          sourceTopic: group === undefined ? undefined : topic.slice(0, -(group.length + DLQ_SUFFIX.length + 1)),
          parkedTopic,
          records,
          parked,
          pending: Math.max(0, records - parked),
          growthPerMinute: growth.ratePerMinute(topic, (v) => v),
        });
      }
      return summaries;
    },

    async records(topic) {
      const entries = (await replayer.list(topic)).slice(-MAX_RECORDS);
      return Promise.all(
        entries.map(async (entry) => {
          let decoded: unknown;
          try {
            const { event, schemaId } = await codec.decode(entry.record);
            decoded = { ok: true, schemaId, event };
          } catch (error) {
            decoded = { ok: false, error: redactSecrets(errorMessageOf(error)).slice(0, 1024), valueBase64: entry.record.value?.toString('base64').slice(0, 2048) ?? null };
          }
          return {
            position: entry.position,
            timestamp: new Date(entry.timestamp).toISOString(),
            key: safe(entry.key ?? undefined) ?? null,
            eventType: entry.eventType,
            eventId: entry.eventId,
            consumerGroup: entry.consumerGroup,
            handler: entry.handler,
            errorClass: entry.errorClass,
            errorCode: entry.errorCode,
            errorMessage: safe(entry.errorMessage),
            attempts: entry.attempts,
            firstFailure: entry.firstFailure,
            lastFailure: entry.lastFailure,
            original: entry.original,
            problems: entry.problems,
            headers: headerTexts(entry),
            decoded,
          };
        }),
      );
    },

    lag() {
      const shown = new Set(latestLag.groups.map((g) => g.groupId));
      return { ...latestLag, history: Object.fromEntries(Object.entries(lagHistory.all()).filter(([group]) => shown.has(group))) };
    },

    async sampleLag() {
      const at = options.now();
      try {
        const groups: ConsoleGroupLag[] = [];
        for (const groupId of await watchedGroups()) {
          const lag = await options.lag(groupId);
          groups.push(lag);
          const times = lag.partitions.map((p) => p.timeLagMs);
          lagHistory.add(groupId, at, {
            offsetLag: lag.partitions.reduce((sum, p) => sum + p.offsetLag, 0),
            timeLagMs: times.includes(null) ? null : Math.max(0, ...(times as number[])),
          });
        }
        latestLag = { groups, sampledAt: at, error: null };
      } catch (error) {
        latestLag = { ...latestLag, error: redactSecrets(errorMessageOf(error)).slice(0, 1024) };
      }
    },

    async subjects() {
      return listSubjects(options.registry.url, options.registry.auth);
    },

    async schemaHistory(subject) {
      const versions = await registry.versions(subject);
      const texts = await Promise.all(versions.map((v) => registry.schemaAt(subject, v)));
      return {
        subject,
        versions: versions.map((version, i) => {
          let changes: unknown = null;
          if (i > 0) {
            try {
              changes = options.diffSchemas(texts[i - 1]!, texts[i]!);
            } catch (error) {
              changes = { error: redactSecrets(errorMessageOf(error)) };
            }
          }
          return { version, schema: texts[i], changesFromPrevious: changes };
        }),
      };
    },

    async close() {
      await Promise.allSettled([publisher.disconnect(), admin?.disconnect()]);
    },
  };
}

/**
 * The registry's subjects. The codec's client has no call for the list, so this one GET is made
 * here, with the same credentials (from the options, or the URL's user info, never echoed).
 */
async function listSubjects(url: string, auth: { username: string; password: string } | undefined): Promise<string[]> {
  const base = new URL(url);
  const credentials = auth ?? (base.username ? { username: decodeURIComponent(base.username), password: decodeURIComponent(base.password) } : undefined);
  base.username = '';
  base.password = '';
  const response = await fetch(`${base.toString().replace(/\/$/, '')}/subjects`, {
    headers: {
      accept: 'application/vnd.schemaregistry.v1+json, application/json',
      ...(credentials ? { authorization: `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` } : {}),
    },
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`the registry at ${redactUrl(base.toString())} answered ${response.status} listing subjects`);
  const body: unknown = await response.json();
  return Array.isArray(body) ? body.filter((s): s is string => typeof s === 'string').sort().slice(0, 5000) : [];
}
