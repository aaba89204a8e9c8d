/**
 * Where the SoftHSM2 PKCS#11 module is: `SOFTHSM2_MODULE`, or the first of the usual install
 * paths that exists (Debian/Ubuntu, Fedora, Homebrew on Apple silicon and Intel).
 */
import { existsSync } from 'node:fs';

const CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/opt/homebrew/lib/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
];

export const SOFTHSM2_MODULE = process.env.SOFTHSM2_MODULE ?? CANDIDATES.find((p) => existsSync(p)) ?? CANDIDATES[0]!;
