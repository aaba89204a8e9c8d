/** Renders a scenario result as a table row, JSON, and an SVG chart with the faults marked. */
import type { ScenarioResult } from './harness.ts';

export function summaryRow(r: ScenarioResult): string {
  const failures = Object.entries(r.failures).map(([c, n]) => `${c}:${n}`).join(' ') || '-';
  const figures = Object.entries(r.figures).map(([k, v]) => `${k}=${v}`).join(' ');
  return `| ${r.name} (${r.form}, ${r.backend}, seed ${r.seed}) | ${r.requests} | ${r.successes} | ${failures} | ${r.medianMs.toFixed(0)} | ${r.p99Ms.toFixed(0)} | ${r.blame.correct}/${r.blame.wrong} | ${r.safety.invalidSignatures} | ${r.safety.leakedShares} | ${figures} |`;
}

export const TABLE_HEADER =
  '| scenario | requests | ok | failures | median ms | p99 ms | blame correct/wrong | invalid sigs | leaked shares | figures |\n|---|---:|---:|---|---:|---:|---|---:|---:|---|';

export function toJson(r: ScenarioResult): string {
  return JSON.stringify({ ...r, records: r.records.length }, null, 2);
}

export function chartSvg(r: ScenarioResult): string {
  const W = 900;
  const H = 360;
  const pad = { l: 60, r: 60, t: 30, b: 40 };
  const end = Math.max(1, ...r.records.map((x) => x.at + x.ms), ...r.marks.map((m) => m.at));
  const maxMs = Math.max(10, ...r.records.map((x) => x.ms));
  const x = (t: number) => pad.l + (t / end) * (W - pad.l - pad.r);
  const y = (ms: number) => H - pad.b - (ms / maxMs) * (H - pad.t - pad.b);
  const ySuccess = (f: number) => H - pad.b - f * (H - pad.t - pad.b);
  const dots = r.records
    .map((q) => (q.ok ? `<circle cx="${x(q.at).toFixed(1)}" cy="${y(q.ms).toFixed(1)}" r="2" fill="#2a7"/>` : `<text x="${x(q.at).toFixed(1)}" y="${y(q.ms).toFixed(1)}" font-size="10" fill="#c22">×</text>`))
    .join('');
  const buckets = 20;
  const line: string[] = [];
  for (let b = 0; b < buckets; b++) {
    const inB = r.records.filter((q) => q.at >= (b * end) / buckets && q.at < ((b + 1) * end) / buckets);
    if (!inB.length) continue;
    line.push(`${x(((b + 0.5) * end) / buckets).toFixed(1)},${ySuccess(inB.filter((q) => q.ok).length / inB.length).toFixed(1)}`);
  }
  const marks = r.marks.map((m) => `<line x1="${x(m.at)}" x2="${x(m.at)}" y1="${pad.t}" y2="${H - pad.b}" stroke="#888" stroke-dasharray="4"/><text x="${x(m.at) + 3}" y="${pad.t + 10}" font-size="10" fill="#555">${escape(m.label)}</text>`).join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${pad.l}" y="18" font-size="13">${escape(r.name)} (${r.form}, seed ${r.seed}): latency per request (dots, ms, left) and success rate (line, right)</text>
<line x1="${pad.l}" y1="${H - pad.b}" x2="${W - pad.r}" y2="${H - pad.b}" stroke="#000"/>
<line x1="${pad.l}" y1="${pad.t}" x2="${pad.l}" y2="${H - pad.b}" stroke="#000"/>
<text x="5" y="${pad.t + 5}" font-size="10">${maxMs.toFixed(0)} ms</text>
<text x="${W - pad.r + 5}" y="${pad.t + 5}" font-size="10">100%</text>
<text x="${W - pad.r + 5}" y="${H - pad.b}" font-size="10">0%</text>
<text x="${W - pad.r - 40}" y="${H - 10}" font-size="10">${(end / 1000).toFixed(1)} s</text>
${marks}${dots}
<polyline points="${line.join(' ')}" fill="none" stroke="#36c" stroke-width="2"/>
</svg>
`;
}

const escape = (s: string) => s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
