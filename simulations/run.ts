/**
 * `npm run sim -- <scenario> [--short]` runs one scenario (full form by default);
 * `npm run sim -- --all` runs them all; `--processes` runs those that can on a real process cluster. Prints a table and writes JSON and an SVG chart per
 * scenario under `sim-results/` (git-ignored).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runScenario } from './harness.ts';
import { chartSvg, summaryRow, TABLE_HEADER, toJson } from './report.ts';
import { SCENARIOS } from './scenarios.ts';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { all: { type: 'boolean' }, short: { type: 'boolean' }, processes: { type: 'boolean' }, out: { type: 'string', default: 'sim-results' } } });
const backend = values.processes ? 'processes' : 'memory';
const chosen = (values.all ? SCENARIOS : SCENARIOS.filter((s) => positionals.includes(s.name))).filter((s) => (s.backends ?? ['memory']).includes(backend));
if (!chosen.length) {
  console.error(`usage: npm run sim -- <${SCENARIOS.map((s) => s.name).join('|')}> [--short] [--processes] | --all`);
  process.exit(2);
}
const out = resolve(values.out!);
mkdirSync(out, { recursive: true });
const rows: string[] = [];
for (const scenario of chosen) {
  console.error(`running ${scenario.name}: ${scenario.description}`);
  const result = await runScenario(scenario, values.short ?? false, backend);
  const file = `${scenario.name}${backend === 'processes' ? '.processes' : ''}`;
  writeFileSync(join(out, `${file}.json`), toJson(result));
  writeFileSync(join(out, `${file}.svg`), chartSvg(result));
  rows.push(summaryRow(result));
  console.error(rows[rows.length - 1]);
}
console.log(`${TABLE_HEADER}\n${rows.join('\n')}`);
console.log(`\nJSON and SVG charts in ${out}`);
process.exit(0);
