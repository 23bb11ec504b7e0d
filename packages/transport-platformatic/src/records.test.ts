import { fromHeaderPairs, toHeaderMap } from './records';

describe('headers', () => {
  it('writes strings as UTF-8, keeps buffers, one entry per value of a repeated header', () => {
    const map = toHeaderMap({ a: 'é', b: Buffer.from([0, 255]), c: ['1', Buffer.from('2')], d: undefined });
    const entries = [...map].map(([name, value]) => [name.toString(), value.toString('hex')]);
    expect(entries).toEqual([
      ['a', Buffer.from('é').toString('hex')],
      ['b', '00ff'],
      ['c', Buffer.from('1').toString('hex')],
      ['c', Buffer.from('2').toString('hex')],
    ]);
  });

  it('reads them back, a repeated name as an array', () => {
    const headers = fromHeaderPairs([
      [Buffer.from('a'), Buffer.from('x')],
      [Buffer.from('c'), Buffer.from('1')],
      [Buffer.from('c'), Buffer.from('2')],
      [Buffer.from('n'), null],
      [null, Buffer.from('ignored')],
    ]);
    expect(headers).toEqual({ a: Buffer.from('x'), c: [Buffer.from('1'), Buffer.from('2')], n: Buffer.alloc(0) });
  });
});
