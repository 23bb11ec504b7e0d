import { SagaConfigError } from './errors';
import { createSagaInspector } from './inspector';
import { createSaga } from './saga';

const evkit = { write: () => {}, inTransaction: () => {}, consumer: () => {} };
const definition = { name: 'order', steps: [{ name: 'reserve', command: { topic: 'inventory', type: 'stock.reserve', data: () => ({}) }, success: 'stock.reserved' }] };

describe('createSaga and createSagaInspector options', () => {
  const make = (options: object) => () => createSaga(options as never);
  it.each([
    [{}, /evkit is required/],
    [{ evkit: {}, definition, replyTopics: ['r'] }, /evkit must be the value of createEvkit/],
    [{ evkit, definition, replyTopics: [] }, /replyTopics must be a list of one or more Kafka topic names/],
    [{ evkit, definition, replyTopics: ['r'], timers: { intervalMs: 0 } }, /timers: intervalMs must be a whole number/],
    [{ evkit, definition, replyTopics: ['r'], consumer: { groupId: 'x' } }, /consumer.groupId is the saga's own/],
    [{ evkit, definition, replyTopics: ['r'], table: 'Bad-Name' }, /table must be a lowercase SQL identifier/],
    [{ evkit, definition: { name: 'order', steps: [] }, replyTopics: ['r'] }, /steps must be a list of one or more steps/],
  ])('refuses %j', (options, message) => {
    expect(make(options)).toThrow(SagaConfigError);
    expect(make(options)).toThrow(message);
  });

  it('takes a valid saga without touching the database or Kafka', () => {
    expect(createSaga({ evkit, definition, replyTopics: ['replies'] } as never).name).toBe('order');
  });

  it('needs a pool or a connection string, one of them', () => {
    expect(() => createSagaInspector({} as never)).toThrow(/pool or connectionString, one of them/);
    expect(() => createSagaInspector({ connectionString: 'postgres://x', pool: {} } as never)).toThrow(SagaConfigError);
  });
});
