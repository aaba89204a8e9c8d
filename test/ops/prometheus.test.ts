/**
 * The SLO rules in ops/prometheus/ are valid and do what they say: `promtool check rules` and the
 * unit tests in rules.test.yml (every alert fires on synthetic series and clears again). Skips
 * with a banner where promtool is missing, unless MPC_REQUIRE_PROMTOOL=1 (.ci/run sets it).
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const DIR = resolve(import.meta.dirname, '../../ops/prometheus');
const promtool = spawnSync('promtool', ['--version'], { stdio: 'ignore' }).status === 0;
const required = process.env.MPC_REQUIRE_PROMTOOL === '1';
if (!promtool && !required) console.warn('\n*** SKIPPING the Prometheus rule tests: promtool is not installed (apt-get install prometheus) ***\n');

const run = (...args: string[]) => spawnSync('promtool', args, { cwd: DIR, encoding: 'utf8' });

describe.runIf(promtool || required)('Prometheus SLO rules (ops/prometheus)', () => {
  it('pass promtool check rules', () => {
    const r = run('check', 'rules', 'rules.yml');
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
  it('pass their unit tests: every alert fires and clears', () => {
    const r = run('test', 'rules', 'rules.test.yml');
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });
});
