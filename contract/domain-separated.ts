/**
 * The input every signed canonical document is signed as, on both sides of the API (nodes sign
 * receipts and check approvals; clients and administrators check and make them).
 */

/** `domain` + "\n" + bytes: every signed canonical document names what it is. */
export function domainSeparated(domain: string, body: string | Uint8Array): Uint8Array {
  const head = new TextEncoder().encode(`${domain}\n`);
  const tail = typeof body === 'string' ? new TextEncoder().encode(body) : body;
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}
