import { CodecConfigError } from './errors';
import { subjectNamer } from './subject-naming';

describe('subject naming strategies', () => {
  it.each([
    ['topic', 'orders-value'],
    ['record', 'com.example.OrderPlaced'],
    ['topic-record', 'orders-com.example.OrderPlaced'],
  ] as const)('%s names the subject %s', (strategy, subject) => {
    expect(subjectNamer(strategy)('orders', 'com.example.OrderPlaced')).toBe(subject);
  });

  it('takes a function, and rejects anything else', () => {
    expect(subjectNamer((t, r) => `${r}@${t}`)('orders', 'X')).toBe('X@orders');
    expect(() => subjectNamer('TopicNameStrategy' as never)).toThrow(CodecConfigError);
  });
});
