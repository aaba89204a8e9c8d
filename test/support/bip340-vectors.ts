/** The BIP340 test vectors from ../shared (bip/bip340-test-vectors.csv), and a way to spoil bytes, for the verifiers' tests. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const VECTORS = path.resolve(import.meta.dirname, '../../../shared/vectors');

/** Each row: index, secret key, public key, aux_rand, message, signature, verification result, comment. */
export const bip340Rows: string[][] = readFileSync(path.join(VECTORS, 'bip', 'bip340-test-vectors.csv'), 'utf8')
  .trim()
  .split(/\r?\n/)
  .slice(1)
  .map((line) => line.split(','));

/** `b` with one bit of byte `i` flipped. */
export function flip(b: Uint8Array, i: number): Uint8Array {
  const c = Uint8Array.from(b);
  c[i] = c[i]! ^ 1;
  return c;
}
