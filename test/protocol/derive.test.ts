import { readFileSync } from 'node:fs';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { HDKey } from '@scure/bip32';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derive, DerivationError, encodeXpub, parsePath } from '../../protocol/derive.ts';

interface Chain {
  path: string;
  xpub: string;
}
const vectors = JSON.parse(readFileSync(new URL('../../../shared/vectors/bip/bip32-test-vectors.json', import.meta.url), 'utf8')) as { vector: number; chains: Chain[] }[];
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('BIP32 public derivation (secp256k1)', () => {
  it('matches every non-hardened parent→child step of the BIP32 test vectors', () => {
    let checked = 0;
    for (const v of vectors) {
      for (let i = 1; i < v.chains.length; i++) {
        const parent = v.chains[i - 1]!;
        const child = v.chains[i]!;
        const step = child.path.split('/').pop()!;
        if (!child.path.startsWith(parent.path + '/') || /h$/.test(step)) continue;
        const p = HDKey.fromExtendedKey(parent.xpub);
        const c = HDKey.fromExtendedKey(child.xpub);
        const d = derive('secp256k1', p.publicKey!, p.chainCode!, [Number(step)]);
        expect(hex(d.publicKey)).toBe(hex(c.publicKey!));
        expect(hex(d.chainCode)).toBe(hex(c.chainCode!));
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
  });

  it('agrees with @scure/bip32 on multi-step paths, and the tweak moves the key by exactly δ·G', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.array(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { maxLength: 5 }), (seed, path) => {
        const root = HDKey.fromMasterSeed(seed);
        const xpub = HDKey.fromExtendedKey(root.publicExtendedKey);
        const expected = xpub.derive(['m', ...path].join('/'));
        const d = derive('secp256k1', root.publicKey!, root.chainCode!, path);
        expect(hex(d.publicKey)).toBe(hex(expected.publicKey!));
        expect(hex(d.chainCode)).toBe(hex(expected.chainCode!));
        const tweak = BigInt('0x' + hex(d.tweak));
        const moved = secp256k1.Point.fromBytes(root.publicKey!).add(tweak === 0n ? secp256k1.Point.ZERO : secp256k1.Point.BASE.multiply(tweak));
        expect(hex(moved.toBytes(true))).toBe(hex(d.publicKey));
        // And the private key moves by δ too (what every signer does to its share).
        const childSecret = (BigInt('0x' + hex(root.privateKey!)) + tweak) % secp256k1.Point.Fn.ORDER;
        expect(childSecret.toString(16).padStart(64, '0')).toBe(hex(root.derive(['m', ...path].join('/')).privateKey!));
      }),
      { numRuns: 30 },
    );
  });

  it('encodes the root xpub that @scure/bip32 parses back', () => {
    const root = HDKey.fromMasterSeed(new Uint8Array(32).fill(7));
    const xpub = encodeXpub(root.publicKey!, root.chainCode!);
    expect(xpub).toBe(HDKey.fromExtendedKey(root.publicExtendedKey).publicExtendedKey);
  });
});

describe('Ed25519 additive derivation', () => {
  it('child key is parent + δ·B and a child secret scalar signs for it', () => {
    const parentScalar = 123456789n;
    const A = ed25519.Point.BASE.multiply(parentScalar).toBytes();
    const d = derive('ed25519', A, new Uint8Array(32).fill(1), [0, 7, 2 ** 31 - 1]);
    const delta = BigInt('0x' + hex(Uint8Array.from(d.tweak).reverse()));
    const child = ed25519.Point.BASE.multiply((parentScalar + delta) % ed25519.Point.Fn.ORDER);
    expect(hex(child.toBytes())).toBe(hex(d.publicKey));
    const again = derive('ed25519', A, new Uint8Array(32).fill(1), [0, 7, 2 ** 31 - 1]);
    expect(hex(again.publicKey)).toBe(hex(d.publicKey));
    expect(hex(derive('ed25519', A, new Uint8Array(32).fill(1), [0, 7, 1]).publicKey)).not.toBe(hex(d.publicKey));
  });
});

describe('paths', () => {
  it('parses non-hardened paths and refuses hardened or malformed ones', () => {
    expect(parsePath('m')).toEqual([]);
    expect(parsePath('m/0/1/2147483647')).toEqual([0, 1, 2147483647]);
    for (const bad of ["m/0'", 'm/0h', 'm/2147483648']) expect(() => parsePath(bad)).toThrow(expect.objectContaining({ code: 'hardened' }));
    for (const bad of ['', '0/1', 'm/', 'm/-1', 'm/01', 'm/a', 'm//1', 'm/1.5']) expect(() => parsePath(bad)).toThrow(DerivationError);
  });
});
