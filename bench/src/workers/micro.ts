import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import * as avro from 'avsc';
import { createAvroCodec } from '@evkit/codec';
import { createEvent, fromBinaryRecord, toBinaryRecord } from '@evkit/envelope';
import { AVRO_CONTENT_TYPE, dataFor, EVENT_SOURCE, EVENT_TYPE, fixtureRecord, keyOf, ORDER_SCHEMA } from '../fixture';
import type { Endpoints, WorkerHandler, WorkerSpec } from '../harness/protocol';
import { loadConfluentSchemaRegistry, loadTinybench } from '../optional-deps';

export interface MicroRun {
  timeMs: number;
  topic: string;
}

export interface MicroSample {
  group: string;
  name: string;
  opsPerSec: number;
  meanUs: number;
}

type Task = { group: string; name: string; fn: () => unknown };

/** Per-record codec and envelope costs, with tinybench; every encoder is warm (ids and schemas cached). */
export async function microWorker(spec: Extract<WorkerSpec, { kind: 'micro' }>, endpoints: Endpoints): Promise<WorkerHandler> {
  const { Bench } = await loadTinybench();
  // `topic` subjects: the Confluent serializer measured beside it looks its schema up under `<topic>-value`.
  const codec = createAvroCodec({ registry: { url: endpoints.registryUrl }, subjectNameStrategy: 'topic' });
  const registry = new SchemaRegistry({ host: endpoints.registryUrl });
  const type = avro.Type.forSchema(ORDER_SCHEMA);
  const data = dataFor(0, spec.valueBytes);
  const record = fixtureRecord(0, spec.valueBytes, spec.schemaId);
  const event = createEvent({ source: EVENT_SOURCE, type: EVENT_TYPE, partitionkey: keyOf(0), datacontenttype: AVRO_CONTENT_TYPE, data });
  const avroBytes = type.toBuffer(data);
  const confluent = loadConfluentSchemaRegistry();

  const tasksFor = async (topic: string): Promise<Task[]> => {
    await codec.prepare(topic, ORDER_SCHEMA);
    await codec.decode(record);
    // The fixture schema's id: encode() fetches it by id, as a service configured with the id would.
    const id = spec.schemaId;
    await registry.encode(id, data);
    await registry.decode(record.value);
    const tasks: Task[] = [
      { group: 'encode', name: 'avsc toBuffer (floor)', fn: () => type.toBuffer(data) },
      { group: 'encode', name: 'evkit codec.encode (event → record)', fn: () => codec.encode(topic, event, ORDER_SCHEMA) },
      { group: 'encode', name: '@kafkajs/confluent-schema-registry encode()', fn: () => registry.encode(id, data) },
      { group: 'decode', name: 'avsc fromBuffer (floor)', fn: (): unknown => type.fromBuffer(avroBytes) },
      { group: 'decode', name: 'evkit codec.decode (record → event)', fn: () => codec.decode(record) },
      { group: 'decode', name: '@kafkajs/confluent-schema-registry decode()', fn: () => registry.decode(record.value) as Promise<unknown> },
      { group: 'envelope', name: 'createEvent (validate, UUIDv7, time)', fn: () => createEvent({ source: EVENT_SOURCE, type: EVENT_TYPE, partitionkey: 'k', data }) },
      { group: 'envelope', name: 'toBinaryRecord (event → key + ce_ headers)', fn: () => toBinaryRecord(event, record.value) },
      { group: 'envelope', name: 'fromBinaryRecord (ce_ headers → attributes)', fn: () => fromBinaryRecord(record) },
    ];
    if (confluent.ok) {
      const { SchemaRegistryClient, AvroSerializer, AvroDeserializer } = confluent.module;
      const client = new SchemaRegistryClient({ baseURLs: [endpoints.registryUrl] });
      const serializer = new AvroSerializer(client, 'VALUE', { useLatestVersion: true });
      const deserializer = new AvroDeserializer(client, 'VALUE', {});
      await deserializer.deserialize(topic, await serializer.serialize(topic, data));
      tasks.splice(3, 0, { group: 'encode', name: '@confluentinc/schemaregistry AvroSerializer', fn: () => serializer.serialize(topic, data) });
      tasks.push({ group: 'decode', name: '@confluentinc/schemaregistry AvroDeserializer', fn: () => deserializer.deserialize(topic, record.value) });
    }
    return tasks;
  };

  return {
    async run(payload): Promise<MicroSample[]> {
      const { timeMs, topic } = payload as MicroRun;
      const tasks = await tasksFor(topic);
      const bench = new Bench({ time: timeMs, warmupTime: Math.min(100, timeMs) });
      for (const task of tasks) bench.add(task.name, task.fn);
      const results = await bench.run();
      return results.map((result, i) => {
        const { latency, throughput, error } = result.result;
        if (!latency || !throughput) throw new Error(`tinybench task ${result.name}: ${result.result.state} ${error?.message ?? ''}`);
        return { group: tasks[i]!.group, name: result.name, opsPerSec: throughput.mean, meanUs: latency.mean * 1000 };
      });
    },
    stop: () => Promise.resolve(),
  };
}
