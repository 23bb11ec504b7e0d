import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import type { Browser, Page } from 'playwright-core';
import { createAvroCodec } from '@evkit/codec';
import { createConsole, type EvkitConsole } from '@evkit/console';
import { createConsumer, type Consumer } from '@evkit/consumer';
import { createProducer } from '@evkit/producer';
import { createFailureRouting } from '@evkit/retry';
import { createLocalStack } from '@evkit/stack';
import { createKafkaJsPublisher, createTopicsAndWait } from '@evkit/transport-kafkajs';
// What `evkit console` hands the console: the CLI's own lag reader and schema diff.
import { readGroupLag } from '../../cli/src/lag';
import { parseAvro } from '../../cli/src/schemas/avro-tree';
import { diffSchemas } from '../../cli/src/schemas/diff';
import { launchChromium } from './chromium';

// The console end to end, in headless Chromium against the real stack: two groups read one
// topic; shipping fails and dead-letters; the page shows the record decoded, replays it to
// shipping alone (billing is not called again), parks another, and shows lag back at zero.
// Screenshots of the run go to docs/console/.

const SCREENSHOTS = path.resolve(__dirname, '../../../docs/console');
const { endpoints } = createLocalStack();
const kafkaOptions = { brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING };
const kafka = new Kafka({ clientId: 'evkit-it-console', ...kafkaOptions });
const codec = createAvroCodec({ registry: { url: endpoints.registryUrl } });
const schema = { type: 'record', name: 'ShipmentOrder', namespace: 'dev.evkit.it', fields: [{ name: 'orderId', type: 'string' }] };
const schemaV2 = { ...schema, fields: [...schema.fields, { name: 'note', type: ['null', 'string'], default: null }] };
const TYPE = 'dev.evkit.it.shipment.ordered';
const producer = createProducer({ codec, source: '/it/console', kafka: kafkaOptions });
const publisher = createKafkaJsPublisher(kafkaOptions);

let browser: Browser;
beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  browser = await launchChromium();
  await producer.connect();
  await publisher.connect();
}, 15 * 60_000);
afterAll(async () => {
  await browser?.close();
  await producer.disconnect();
  await publisher.disconnect();
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
}

function consumerOf(topic: string, groupId: string, handler: (orderId: string) => void | Promise<void>): Consumer {
  const routing = createFailureRouting({ publisher, groupId, delaysMs: [100], maxAttempts: 2, jitter: 0 });
  return createConsumer({ groupId, topics: [topic], codec, fromBeginning: true, kafka: { ...kafkaOptions, sessionTimeout: 10_000 }, middleware: [routing.middleware] }).on<{ orderId: string }>(
    TYPE,
    async (event) => handler(event.data.orderId),
  );
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

it('shows a dead letter decoded, replays it to its group only, parks another, and shows lag back at zero', async () => {
  const topic = `evkit.it.console.${randomUUID().slice(0, 8)}`;
  const admin = kafka.admin();
  await admin.connect();
  await createTopicsAndWait(admin, [{ topic, numPartitions: 1 }]);
  await admin.disconnect();
  const shipping = `shipping-${randomUUID().slice(0, 6)}`;
  const billing = `billing-${randomUUID().slice(0, 6)}`;
  const dlq = `${topic}.${shipping}.dlq`;
  let fixed = false;
  const shipped: string[] = [];
  const billed: string[] = [];
  const consumers = [
    consumerOf(topic, shipping, (orderId) => {
      if (!fixed && orderId !== 'o-ok') throw new Error(`carrier API refused order ${orderId}: postcode missing`);
      shipped.push(orderId);
    }),
    // Slow, so the lag chart has something to show.
    consumerOf(topic, billing, async (orderId) => {
      await new Promise((r) => setTimeout(r, 1500));
      billed.push(orderId);
    }),
  ];
  let evkitConsole: EvkitConsole | undefined;
  try {
    await Promise.all(consumers.map((c) => c.start()));
    evkitConsole = createConsole({
      kafka: kafkaOptions,
      registry: { url: endpoints.registryUrl },
      port: 0,
      groups: [shipping, billing],
      lag: (groupId) => readGroupLag(kafka, groupId, { timeoutMs: 5000 }),
      diffSchemas: (before, after) => diffSchemas(parseAvro(before), parseAvro(after)),
      lagSampleMs: 1000,
    });
    const url = await evkitConsole.start();
    for (const orderId of ['o-ok', 'o-replay', 'o-park']) await producer.publish(topic, { type: TYPE, partitionkey: orderId, data: { orderId } }, schema);
    // Two versions of one subject, for the schema history.
    await producer.publish(`${topic}.history`, { type: TYPE, partitionkey: 'h', data: { orderId: 'h' } }, schema);
    await producer.publish(`${topic}.history`, { type: TYPE, partitionkey: 'h', data: { orderId: 'h', note: 'v2' } }, schemaV2);
    await waitFor(() => billed.length === 3);

    const page = await browser.newPage({ viewport: { width: 1360, height: 900 } });
    // Nothing but the console itself: no CDN, no remote font.
    const elsewhere: string[] = [];
    await page.route('**/*', (route) => (route.request().url().startsWith(url) ? route.continue() : (elsewhere.push(route.request().url()), route.abort())));
    await page.goto(url);

    // The dead-letter topic, its failure group, and the record decoded.
    await page.fill('#topic-filter', topic);
    const topicRow = page.locator(`#dlq-topics tr[data-topic="${dlq}"]`);
    await topicRow.locator('td.waiting', { hasText: '2' }).waitFor({ timeout: 90_000 });
    await topicRow.click();
    await page.locator('#dlq-records tr.record').nth(1).waitFor();
    const recordRow = (orderId: string) => page.locator('#dlq-records tr.record', { hasText: orderId });
    await recordRow('o-replay').locator('button.details').click();
    const decoded = page.locator('#dlq-records pre.decoded');
    await decoded.waitFor();
    expect(await decoded.textContent()).toContain('"orderId": "o-replay"');
    expect(await decoded.textContent()).toContain(`"type": "${TYPE}"`);
    expect(await page.locator('#dlq-records pre.headers').textContent()).toContain('kafka_dlt-exception-message: carrier API refused order o-replay');
    expect(await page.locator('#dlq-groups').textContent()).toContain('carrier API refused order');
    await shot(page, 'dead-letter-decoded');

    // Replay one record: the confirmation names the group's replay topic.
    fixed = true;
    await recordRow('o-replay').locator('button.replay-one').click();
    await expect(page.locator('#confirm .destination').textContent()).resolves.toBe(`${topic}.${shipping}.replay`);
    await shot(page, 'replay-confirm');
    await page.click('#confirm-go');
    await page.locator('#confirm-progress', { hasText: 'Done: 1 record(s) replayed' }).waitFor({ timeout: 60_000 });
    await page.click('#confirm-cancel');
    await waitFor(() => shipped.includes('o-replay'));

    // Park another, with a reason.
    await page.fill('#park-reason', 'order cancelled by the customer; nothing to ship');
    await recordRow('o-park').locator('button.park-one').click();
    await expect(page.locator('#confirm .destination').textContent()).resolves.toBe(`${topic}.${shipping}.parked`);
    await page.click('#confirm-go');
    await page.locator('#confirm-progress', { hasText: 'Done: 1 record(s) parked' }).waitFor({ timeout: 60_000 });
    await page.click('#confirm-cancel');
    await recordRow('o-park').waitFor({ state: 'detached' });
    await topicRow.locator('td.waiting', { hasText: '1' }).waitFor();
    await shot(page, 'after-replay-and-park');

    // Lag back at zero for both groups, with the chart.
    await page.click('.tab[data-tab="lag"]');
    for (const group of [shipping, billing]) {
      await page.locator(`#lag-table tr.total[data-group="${group}"] td.group-lag`, { hasText: /^0$/ }).waitFor({ timeout: 90_000 });
    }
    await page.locator('#lag-chart-time polyline').first().waitFor({ state: 'attached' });
    await shot(page, 'lag');

    // A subject's history with the diff between its versions.
    await page.click('.tab[data-tab="schemas"]');
    const subject = `${topic}.history-dev.evkit.it.ShipmentOrder`;
    await page.locator(`#subject option[value="${subject}"]`).waitFor({ state: 'attached', timeout: 30_000 });
    await page.selectOption('#subject', subject);
    await page.locator('#schema-history .version').nth(1).waitFor();
    expect(await page.locator('#schema-history .changes').first().textContent()).toContain('+ note');
    await shot(page, 'schema-history');

    // Billing read each event once, from the source topic: the replay never reached it.
    await new Promise((r) => setTimeout(r, 2000));
    expect(billed.sort()).toEqual(['o-ok', 'o-park', 'o-replay']);
    expect(shipped.sort()).toEqual(['o-ok', 'o-replay']);
    expect(elsewhere).toEqual([]);
    await page.close();
  } finally {
    await evkitConsole?.close();
    await Promise.all(consumers.map((c) => c.stop()));
  }
}, 300_000);
