import { randomUUID } from 'node:crypto';
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { createLocalStack } from '@evkit/stack';

const record = (fields: object[]) => JSON.stringify({ type: 'record', name: 'OrderPlaced', namespace: 'dev.evkit.it', fields });
const v1 = record([{ name: 'id', type: 'string' }]);
const v2 = record([
  { name: 'id', type: 'string' },
  { name: 'note', type: 'string', default: '' },
]);
// Reads v2 data (which has `note`) but not v1 data: BACKWARD accepts it, BACKWARD_TRANSITIVE must not.
const v3 = record([
  { name: 'id', type: 'string' },
  { name: 'note', type: 'string' },
]);

describe('Apicurio Registry through its Confluent-compatible API', () => {
  const { endpoints } = createLocalStack();
  const registry = new SchemaRegistry({ host: endpoints.registryUrl });
  const api = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${endpoints.registryUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('registers, fetches and round-trips an Avro schema with @kafkajs/confluent-schema-registry', async () => {
    const subject = `evkit-it-${randomUUID()}-value`;
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: v1 }, { subject });
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
    expect(await registry.getSchema(id)).toMatchObject({ name: 'dev.evkit.it.OrderPlaced' });
    const bytes = await registry.encode(id, { id: 'order-1' });
    expect(bytes[0]).toBe(0); // Confluent wire format: magic byte, then the 4-byte schema id
    expect(bytes.readInt32BE(1)).toBe(id);
    expect(await registry.decode(bytes)).toEqual({ id: 'order-1' });
  });

  it('defaults to BACKWARD_TRANSITIVE globally', async () => {
    expect(await api('GET', '/config')).toEqual({ status: 200, body: { compatibilityLevel: 'BACKWARD_TRANSITIVE' } });
  });

  it('refuses under BACKWARD_TRANSITIVE a schema that only BACKWARD would accept', async () => {
    const lenient = `evkit-it-${randomUUID()}-value`;
    const strict = `evkit-it-${randomUUID()}-value`;
    for (const subject of [lenient, strict]) {
      await registry.register({ type: SchemaType.AVRO, schema: v1 }, { subject });
      await registry.register({ type: SchemaType.AVRO, schema: v2 }, { subject });
    }
    expect(await api('PUT', `/config/${lenient}`, { compatibility: 'BACKWARD' })).toMatchObject({ status: 200 });
    expect(await api('PUT', `/config/${strict}`, { compatibility: 'BACKWARD_TRANSITIVE' })).toMatchObject({ status: 200 });

    expect(await api('POST', `/compatibility/subjects/${strict}/versions`, { schema: v3 })).toEqual({
      status: 200,
      body: { is_compatible: false },
    });
    const refused = await api('POST', `/subjects/${strict}/versions`, { schema: v3 });
    expect(refused.status).toBe(409);
    expect(await api('GET', `/subjects/${strict}/versions`)).toEqual({ status: 200, body: [1, 2] });

    const accepted = await api('POST', `/subjects/${lenient}/versions`, { schema: v3 });
    expect(accepted.status).toBe(200);
  });
});
