/**
 * The point work of DKLs23's round 3 on encodings (protocol/dkls23/sign-parts.ts), against
 * noble: the γ/ψ correlation check, including sides that meet the point at infinity, and the
 * sums of instance points and public shares.
 */
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { correlationHolds, correlationWeight, sumPoints } from '../../protocol/dkls23/sign-parts.ts';

const { Point } = secp256k1;
const Fn = Point.Fn;
const randomScalar = (): bigint => Fn.create(BigInt('0x' + randomBytes(48).toString('hex'))) || 1n;
const randomPoint = () => Point.BASE.multiply(randomScalar());
const enc = (p: InstanceType<typeof Point>): Uint8Array => p.toBytes(true);
const rng = (n: number) => new Uint8Array(randomBytes(n));

/** Γ^u and Γ^v that satisfy χ·R_j − Γ^u = d^u·G and χ·pk_j − Γ^v = d^v·G for a peer's R_j, pk_j. */
function honestPeer(chi: bigint) {
  const [Rj, pkj, du, dv] = [randomPoint(), randomPoint(), randomScalar(), randomScalar()];
  const gammaU = Rj.multiply(chi).subtract(Point.BASE.multiply(du));
  const gammaV = pkj.multiply(chi).subtract(Point.BASE.multiply(dv));
  return { m: { Rj: enc(Rj), pkj: enc(pkj), gammaU: enc(gammaU), gammaV: enc(gammaV) }, du, dv };
}

describe('the γ/ψ correlation check on encodings', () => {
  it('holds for an honest peer and fails when either equation is off, whatever the weight', () => {
    for (let i = 0; i < 12; i++) {
      const chi = randomScalar();
      const rho = correlationWeight(rng);
      expect(rho > 0n && rho < 1n << 128n).toBe(true);
      const { m, du, dv } = honestPeer(chi);
      const d = (du + rho * dv) % Fn.ORDER;
      expect(correlationHolds(m, chi, rho, d)).toBe(true);
      const other = enc(randomPoint());
      expect(correlationHolds({ ...m, gammaU: other }, chi, rho, d)).toBe(false);
      expect(correlationHolds({ ...m, gammaV: other }, chi, rho, d)).toBe(false);
      expect(correlationHolds({ ...m, pkj: other }, chi, rho, d)).toBe(false);
      expect(correlationHolds(m, chi, rho, Fn.create(d + 1n))).toBe(false);
    }
  });

  it('decides exactly when a side meets the point at infinity: R_j = −ρ·pk_j, and d = 0', () => {
    const chi = randomScalar();
    const rho = correlationWeight(rng);
    // R_j + ρ·pk_j = O, so the left side is O; the right side is O for this Γ^u.
    const pkj = randomPoint();
    const gammaV = randomPoint();
    const d = randomScalar();
    const atInfinity = { Rj: enc(pkj.multiply(rho).negate()), pkj: enc(pkj), gammaV: enc(gammaV), gammaU: enc(gammaV.multiply(rho).add(Point.BASE.multiply(d)).negate()) };
    expect(correlationHolds(atInfinity, chi, rho, d)).toBe(true);
    expect(correlationHolds(atInfinity, chi, rho, Fn.create(d + 1n))).toBe(false);
    // d = 0: d·G is the point at infinity (libsecp256k1 refuses the zero scalar).
    const Rj = randomPoint();
    const gammaU = Rj.add(pkj.multiply(rho)).multiply(chi).subtract(gammaV.multiply(rho));
    const zeroD = { Rj: enc(Rj), pkj: enc(pkj), gammaU: enc(gammaU), gammaV: enc(gammaV) };
    expect(correlationHolds(zeroD, chi, rho, 0n)).toBe(true);
    expect(correlationHolds({ ...zeroD, gammaV: enc(gammaV.double()) }, chi, rho, 0n)).toBe(false);
  });
});

describe('sums of encoded points', () => {
  it('equal noble\'s, including a partial sum at infinity; a total at infinity is the identity', () => {
    const [P, Q, S] = [randomPoint(), randomPoint(), randomPoint()];
    expect(sumPoints([enc(P), enc(Q), enc(S)]).toBytes()).toEqual(enc(P.add(Q).add(S)));
    expect(sumPoints([enc(P)]).toBytes()).toEqual(enc(P));
    expect(sumPoints([enc(P), enc(P.negate()), enc(Q)]).toBytes()).toEqual(enc(Q));
    expect(sumPoints([enc(P), enc(Q), enc(P.add(Q).negate())]).isZero()).toBe(true);
    expect(sumPoints([enc(P), enc(P)]).toBytes()).toEqual(enc(P.double()));
  });
});
