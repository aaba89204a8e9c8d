/**
 * Canonical JSON: what administrators, approvers and nodes sign and hash. Object keys sorted by
 * UTF-16 code units, no whitespace, strings escaped as JSON.stringify does. For the values our
 * documents allow (strings, safe integers, booleans, arrays, objects) this is RFC 8785 (JCS), so
 * any JCS library reproduces the bytes; amounts beyond 2^53 are decimal strings for that reason.
 */
export type CanonicalValue = string | number | boolean | null | readonly CanonicalValue[] | { readonly [k: string]: CanonicalValue | undefined };

export function canonicalJson(value: CanonicalValue): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value)) throw new TypeError(`canonical JSON holds safe integers only, not ${value}`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map((v: CanonicalValue) => canonicalJson(v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, CanonicalValue | undefined>)
    .filter((e): e is [string, CanonicalValue] => e[1] !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
