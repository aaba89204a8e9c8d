import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../protocol/core/bounded-map.ts';

describe('BoundedMap', () => {
  it('holds up to max entries, forgets everything when a new key would exceed it, and overwrites existing keys without forgetting', () => {
    const m = new BoundedMap<string, number>(2);
    m.set('a', 1).set('b', 2);
    m.set('a', 3);
    expect([...m]).toEqual([['a', 3], ['b', 2]]);
    m.set('c', 4);
    expect([...m]).toEqual([['c', 4]]);
  });
});
