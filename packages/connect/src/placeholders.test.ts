import { redact, substitutePlaceholders } from './placeholders';

describe('substitutePlaceholders', () => {
  const env = { HOST: 'db.internal', PORT: '', DB_PASSWORD: 'hunter2-x', EMPTY: '' };

  it('takes values from the environment, defaults when unset or empty (as POSIX sh does)', () => {
    expect(substitutePlaceholders('${HOST}:${PORT:-5432}/${DB:-evkit}', env)).toEqual({ text: 'db.internal:5432/evkit', missing: [], secrets: [] });
    expect(substitutePlaceholders('[${EMPTY}]', env).text).toBe('[]');
    expect(substitutePlaceholders('${NOPE:-}', env).text).toBe('');
  });

  it('lists each missing variable once, in order, and leaves its placeholder in place', () => {
    expect(substitutePlaceholders('${B} ${A} ${B} ${C:-c}', env)).toEqual({ text: '${B} ${A} ${B} c', missing: ['B', 'A'], secrets: [] });
  });

  it('leaves what is not an upper-case variable alone: Debezium, Connect config providers, $${ escapes', () => {
    const text = 'outbox.${routedByValue} ${env:PG_PASSWORD} ${file:/etc/secrets:pw} $${HOST} $1';
    expect(substitutePlaceholders(text, env)).toEqual({
      text: 'outbox.${routedByValue} ${env:PG_PASSWORD} ${file:/etc/secrets:pw} ${HOST} $1',
      missing: [],
      secrets: [],
    });
  });

  it('reports the values of secret-named variables so they can be masked', () => {
    expect(substitutePlaceholders('${DB_PASSWORD}@${HOST}', env).secrets).toEqual(['hunter2-x']);
    expect(substitutePlaceholders('${API_TOKEN:-t0k3n}', env).secrets).toEqual(['t0k3n']);
  });
});

describe('redact', () => {
  it('masks every occurrence, longer secrets first', () => {
    expect(redact('user pw abc, then abcdef', ['abc', 'abcdef'])).toBe('user pw ***, then ***');
    expect(redact('nothing to hide', [])).toBe('nothing to hide');
  });
});
