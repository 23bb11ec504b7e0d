import { createLocalStack } from '@evkit/stack';

describe('Kafka Connect with Debezium', () => {
  const { endpoints } = createLocalStack();

  it('lists the Debezium PostgreSQL connector and the Outbox Event Router', async () => {
    const response = await fetch(`${endpoints.connectUrl}/connector-plugins?connectorsOnly=false`);
    expect(response.status).toBe(200);
    const plugins = (await response.json()) as { class: string; type: string; version: string }[];
    expect(plugins).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ class: 'io.debezium.connector.postgresql.PostgresConnector', type: 'source', version: '3.4.3.Final' }),
        expect.objectContaining({ class: 'io.debezium.transforms.outbox.EventRouter', type: 'transformation' }),
        expect.objectContaining({ class: 'io.debezium.converters.BinaryDataConverter' }),
      ]),
    );
  });

  it('reports the Kafka cluster it stores its state in', async () => {
    const response = await fetch(`${endpoints.connectUrl}/`);
    const info = (await response.json()) as { version: string; kafka_cluster_id: string };
    expect(info.version).toBe('4.1.1');
    expect(info.kafka_cluster_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });
});
