/** The tests' one way of waiting on a condition (test/support/until.ts). */
import { describe, expect, it } from 'vitest';
import { until } from './until.ts';

describe('until', () => {
  it('returns once the condition holds, checking again until then', async () => {
    let checks = 0;
    await until('the third check', () => ++checks === 3, { every: 1 });
    expect(checks).toBe(3);
  });

  it('fails naming what it waited for, and the last error of a check that was retried', async () => {
    await expect(until('a condition that never holds', () => false, { within: 30, every: 5 })).rejects.toThrow('timed out after 30 ms waiting for a condition that never holds');
    let n = 0;
    const flaky = () => {
      throw new Error(`not up yet (${++n})`);
    };
    await expect(until('a server', flaky, { within: 30, every: 5, errors: 'retry' })).rejects.toThrow(/waiting for a server \(the check last failed with: not up yet \(\d+\)\)/);
    expect(n).toBeGreaterThan(1);
  });

  it('fails at once with the error of a check that throws, unless told to retry', async () => {
    let n = 0;
    const broken = async () => {
      n++;
      throw new Error('the check itself is broken');
    };
    await expect(until('anything', broken, { within: 10_000 })).rejects.toThrow('the check itself is broken');
    expect(n).toBe(1);
    let tries = 0;
    await until('a check that recovers', () => (++tries < 3 ? Promise.reject(new Error('starting')) : true), { every: 1, errors: 'retry' });
    expect(tries).toBe(3);
  });
});
