/**
 * The SLO rules in ops/prometheus/ are valid and do what they say: `promtool check rules` and the
 * unit tests in rules.test.yml (every alert fires on synthetic series and clears again). The
 * Grafana dashboard asks only for metrics the code exports, in valid PromQL. The promtool parts
 * skip with a banner where promtool is missing, unless MPC_REQUIRE_PROMTOOL=1 (.ci/run sets it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
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
  it('the compose profile\'s scrape config passes promtool check config, with the job names the rules assume', () => {
    // The config names the rules file where the container mounts it; check it against this checkout's.
    const dir = mkdtempSync(join(tmpdir(), 'scrape-'));
    const config = readFileSync(join(DIR, 'compose-scrape.yml'), 'utf8');
    expect(config).toMatch(/job_name: mpc-coordinator/);
    expect(config).toMatch(/job_name: mpc-node/);
    writeFileSync(join(dir, 'prometheus.yml'), config.replace('/etc/prometheus/rules.yml', join(DIR, 'rules.yml')));
    const r = spawnSync('promtool', ['check', 'config', 'prometheus.yml'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
  });
});

describe('Prometheus rule tests (ops/prometheus/rules.test.yml)', () => {
  it('has a unit test for every alert that fires it and one that clears it again', () => {
    const alerts = [...readFileSync(join(DIR, 'rules.yml'), 'utf8').matchAll(/- alert: (\w+)/g)].map((m) => m[1]!);
    const evals = [...readFileSync(join(DIR, 'rules.test.yml'), 'utf8').matchAll(/eval_time: (\d+)([mh])\n\s+alertname: (\w+)\n\s+exp_alerts:( \[\])?/g)].map((m) => ({
      minutes: Number(m[1]) * (m[2] === 'h' ? 60 : 1),
      alert: m[3]!,
      fires: m[4] === undefined,
    }));
    expect(alerts.length).toBeGreaterThan(10);
    for (const alert of alerts) {
      const fired = evals.filter((e) => e.alert === alert && e.fires).map((e) => e.minutes);
      expect(fired.length, `${alert} never fires in rules.test.yml`).toBeGreaterThan(0);
      const cleared = evals.some((e) => e.alert === alert && !e.fires && e.minutes > Math.min(...fired));
      expect(cleared, `${alert} never clears after firing in rules.test.yml`).toBe(true);
    }
  });
});

const ROOT = resolve(import.meta.dirname, '../..');
const dashboard = JSON.parse(readFileSync(join(ROOT, 'ops/grafana/mpc-signer.json'), 'utf8')) as { panels: { title: string; targets: { expr: string }[] }[] };
const queries = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ panel: p.title, expr: t.expr })));

describe('Grafana dashboard (ops/grafana/mpc-signer.json)', () => {
  it('queries only metrics the coordinator and nodes export, or recording rules the rules file defines', () => {
    const source = ['coordinator/metrics.ts', 'node/ops-server.ts'].map((f) => readFileSync(join(ROOT, f), 'utf8')).join('\n');
    const exported = new Set([...source.matchAll(/'(mpc_[a-z_]+)'/g)].map((m) => m[1]!));
    const recorded = new Set([...readFileSync(join(DIR, 'rules.yml'), 'utf8').matchAll(/record: ([a-z_:0-9]+)/g)].map((m) => m[1]!));
    expect(exported.size).toBeGreaterThan(10);
    const known = (name: string) => recorded.has(name) || exported.has(name) || exported.has(name.replace(/_(bucket|count|sum)$/, '')) || name.startsWith('process_');
    for (const { panel, expr } of queries) {
      for (const [name] of expr.matchAll(/\b(?:mpc[_:]|process_)[a-z0-9_:]+/g)) expect(known(name), `${panel}: ${name}`).toBe(true);
    }
  });

  it.runIf(promtool || required)('is valid PromQL throughout (promtool checks each query as a recording rule)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    const rules = ['groups:', '  - name: dashboard', '    rules:', ...queries.flatMap((q, i) => [`      - record: dashboard:query_${i}`, `        expr: ${JSON.stringify(q.expr)}`])].join('\n');
    writeFileSync(join(dir, 'dashboard-rules.yml'), rules + '\n');
    const r = spawnSync('promtool', ['check', 'rules', 'dashboard-rules.yml'], { cwd: dir, encoding: 'utf8' });
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${queries.length} rules found`);
  });
});
