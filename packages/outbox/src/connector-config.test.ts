import * as fs from 'node:fs';
import * as path from 'node:path';
import { HEADER_COLUMNS } from './table';

// The shipped connector and the table must agree: every header column placed, in the envelope's
// order; every optional one dropped when the relay route says it is absent.
const shipped = JSON.parse(fs.readFileSync(path.resolve(__dirname, '../../../connect-configs/outbox-connector.json'), 'utf8')) as {
  config: Record<string, string>;
};
const config = shipped.config;

/** Java's Matcher.matches(): the whole string. */
const javaMatches = (pattern: string, text: string) => new RegExp(`^(?:${pattern})$`).test(text);

describe('connect-configs/outbox-connector.json', () => {
  it('places every header column as its header, in the order @evkit/envelope writes them', () => {
    expect(config['transforms.outbox.table.fields.additional.placement']).toBe(
      HEADER_COLUMNS.map(({ column, header }) => `${column}:header:${header}`).join(','),
    );
    expect(config['transforms.outbox.table.field.event.key']).toBe('aggregateid');
    expect(config['transforms.outbox.route.by.field']).toBe('relay_route');
  });

  it('drops the header of each absent optional attribute, and only then', () => {
    const transforms = config.transforms!.split(',');
    const predicates = config.predicates!.split(',');
    for (const { column, header, optional } of HEADER_COLUMNS.filter((c) => c.optional)) {
      const name = transforms.find((t) => config[`transforms.${t}.headers`] === header);
      expect(name).toBeDefined();
      expect(config[`transforms.${name}.type`]).toBe('org.apache.kafka.connect.transforms.DropHeaders');
      const predicate = config[`transforms.${name}.predicate`]!;
      expect(predicates).toContain(predicate);
      const pattern = config[`predicates.${predicate}.pattern`]!;
      expect(optional).toBe(true);
      expect(javaMatches(pattern, `orders|,${column},`)).toBe(true);
      expect(javaMatches(pattern, `orders|,subjectx,x${column},`)).toBe(false);
      expect(javaMatches(pattern, 'orders|,')).toBe(false);
    }
  });

  it('drops the EventRouter\'s own id header and cuts the route suffix off the topic last', () => {
    const transforms = config.transforms!.split(',');
    expect(transforms[0]).toBe('outbox');
    expect(config[`transforms.${transforms[1]}.headers`]).toBe('id');
    const last = transforms.at(-1)!;
    expect(config[`transforms.${last}.type`]).toBe('org.apache.kafka.connect.transforms.RegexRouter');
    const regex = new RegExp(`^(?:${config[`transforms.${last}.regex`]})$`);
    expect('orders.v1|,subject,tracestate,'.replace(regex, config[`transforms.${last}.replacement`]!)).toBe('orders.v1');
  });

  it('passes the payload bytes through, keys by string, and fails on an UPDATE', () => {
    expect(config).toMatchObject({
      'value.converter': 'io.debezium.converters.BinaryDataConverter',
      'key.converter': 'org.apache.kafka.connect.storage.StringConverter',
      'header.converter': 'org.apache.kafka.connect.storage.SimpleHeaderConverter',
      'transforms.outbox.table.op.invalid.behavior': 'fatal',
      'extended.headers.enabled': 'false',
      'tombstones.on.delete': 'false',
      'producer.override.enable.idempotence': 'true',
      'producer.override.acks': 'all',
      'plugin.name': 'pgoutput',
      'publication.autocreate.mode': 'filtered',
    });
  });

  it('is tuned for latency: no 500 ms empty-poll sleep, no producer linger (each overridable)', () => {
    expect(config).toMatchObject({
      'poll.interval.ms': '${EVKIT_OUTBOX_POLL_INTERVAL_MS:-10}',
      'producer.override.linger.ms': '${EVKIT_OUTBOX_LINGER_MS:-0}',
      'max.batch.size': '${EVKIT_OUTBOX_MAX_BATCH_SIZE:-2048}',
      'max.queue.size': '${EVKIT_OUTBOX_MAX_QUEUE_SIZE:-8192}',
    });
  });
});
