/**
 * How `mpc` prints an answer for people: nested fields as indented `name: value` lines, lists of
 * keys one per line, so a terminal shows what matters without JSON noise (`--json` prints JSON).
 */
export function render(value: unknown): string {
  if (isRecord(value) && Array.isArray(value.keys)) return renderKeyPage(value);
  return lines(value, '').join('\n');
}

function renderKeyPage(page: Record<string, unknown>): string {
  const keys = page.keys as Record<string, unknown>[];
  const rows = keys.map((k) => `${k.id}  ${k.scheme}  ${k.threshold}-of-${(k.nodes as unknown[]).length}  ${k.status}${k.label ? `  ${k.label}` : ''}`);
  if (!rows.length) rows.push('no keys');
  if (typeof page.next === 'string') rows.push(`more: --cursor ${page.next}`);
  return rows.join('\n');
}

function lines(value: unknown, indent: string): string[] {
  if (Array.isArray(value)) return value.every((v) => !isRecord(v)) ? [`${indent}${value.join(', ')}`] : value.flatMap((v, i) => [`${indent}- ${i + 1}`, ...lines(v, `${indent}  `)]);
  if (!isRecord(value)) return [`${indent}${String(value)}`];
  return Object.entries(value).flatMap(([k, v]) => {
    if (isRecord(v) || (Array.isArray(v) && v.some(isRecord))) return [`${indent}${k}:`, ...lines(v, `${indent}  `)];
    return [`${indent}${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`];
  });
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
