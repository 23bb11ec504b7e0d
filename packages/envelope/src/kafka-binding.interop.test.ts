import { CloudEvent as SdkEvent, Kafka as SdkKafka, type KafkaMessage } from 'cloudevents';
import { createEvent } from './event';
import { fromBinaryRecord, toBinaryRecord, withData } from './kafka-binding';

// The CloudEvents JavaScript SDK's own Kafka binding on the other side: what evkit writes it
// reads, and what it writes evkit reads.
describe('interoperability with the CloudEvents SDK Kafka binding', () => {
  const value = Buffer.from([0, 0, 0, 0, 7, 2, 4]);
  const event = createEvent({
    source: '/orders-service',
    type: 'com.example.order.placed',
    subject: 'order/o-1',
    datacontenttype: 'application/avro',
    dataschema: 'urn:evkit:orders-value:7',
    partitionkey: 'o-1',
    correlationid: 'flow-1',
    causationid: 'cause-1',
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    extensions: { tenant: 'acme' },
    data: value,
  });

  it('the SDK reads every attribute of an evkit record', () => {
    const record = toBinaryRecord(event, value);
    const headers = Object.fromEntries(Object.entries(record.headers).map(([k, v]) => [k, String(v)]));
    const message: KafkaMessage = { headers, key: record.key as string, body: record.value, value: record.value, timestamp: undefined };
    const read = SdkKafka.toEvent(message) as SdkEvent<Buffer>;
    expect(read.id).toBe(event.id);
    expect(read.source).toBe(event.source);
    expect(read.type).toBe(event.type);
    expect(read.subject).toBe(event.subject);
    expect(read.datacontenttype).toBe('application/avro');
    expect(read.dataschema).toBe(event.dataschema);
    expect(new Date(read.time!).toISOString()).toBe(event.time);
    expect(read.partitionkey).toBe('o-1');
    expect(read.correlationid).toBe('flow-1');
    expect(read.causationid).toBe('cause-1');
    expect(read.traceparent).toBe(event.traceparent);
    expect(read.tenant).toBe('acme');
    expect(Buffer.from(read.data as Uint8Array)).toEqual(value);
  });

  it('evkit reads every attribute of an SDK record', () => {
    const sdkEvent = new SdkEvent({
      id: 'evt-sdk-1',
      source: '/legacy-service',
      type: 'com.example.order.placed',
      subject: 'order/o-2',
      time: '2026-11-23T10:00:00.000Z',
      datacontenttype: 'application/avro',
      partitionkey: 'o-2',
      correlationid: 'flow-2',
      tenant: 'acme',
      data: value,
    });
    const message = SdkKafka.binary(sdkEvent);
    // Kafka carries no header for an undefined value.
    const headers = Object.fromEntries(
      Object.entries(message.headers)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, Buffer.from(String(v))]),
    );
    const attributes = fromBinaryRecord({ key: message.key === undefined ? null : Buffer.from(String(message.key)), headers });
    expect(withData(attributes, value)).toEqual({
      id: 'evt-sdk-1',
      source: '/legacy-service',
      specversion: '1.0',
      type: 'com.example.order.placed',
      subject: 'order/o-2',
      time: '2026-11-23T10:00:00.000Z',
      datacontenttype: 'application/avro',
      partitionkey: 'o-2',
      correlationid: 'flow-2',
      extensions: { tenant: 'acme' },
      data: value,
    });
  });
});
