/** Lagrange interpolation coefficients over a prime field (noble's `Fn` objects satisfy `PrimeField`). */

export interface PrimeField {
  readonly ONE: bigint;
  mul(a: bigint, b: bigint): bigint;
  sub(a: bigint, b: bigint): bigint;
  div(a: bigint, b: bigint): bigint;
}

/**
 * λ_i = Π_{j≠i} (at − x_j) / (x_i − x_j): the weight of the value at x_i when interpolating the
 * polynomial through the points `xs` at x = `at` (0, the default, recovers the shared secret).
 */
export function lagrangeCoefficient(Fn: PrimeField, xs: readonly bigint[], xi: bigint, at = 0n): bigint {
  let num = Fn.ONE;
  let den = Fn.ONE;
  for (const xj of xs) {
    if (xj === xi) continue;
    num = Fn.mul(num, Fn.sub(at, xj));
    den = Fn.mul(den, Fn.sub(xi, xj));
  }
  return Fn.div(num, den);
}
