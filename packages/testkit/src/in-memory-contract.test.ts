import { createInMemoryBroker } from '@evkit/transport';
import { transportContract } from './contract';

transportContract('in-memory', () => {
  const broker = createInMemoryBroker();
  return {
    createTopic: (topic, partitions) => Promise.resolve(broker.createTopic(topic, partitions)),
    publisher: () => broker.publisher(),
    subscriber: (options) => broker.subscriber(options),
  };
});
