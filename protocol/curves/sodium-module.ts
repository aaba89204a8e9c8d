/**
 * libsodium's WebAssembly module, for ristretto255 (edwards25519 uses the native build,
 * sodium-native-module.ts, which lacks ristretto255), called directly where a secret goes in or comes out:
 * libsodium.js's own wrapper functions copy their arguments into the module's memory and free
 * the copies without wiping them, so `callWiped` puts the inputs there itself and wipes
 * everything it put there (and the result) before freeing it.
 */
import sodium from 'libsodium-wrappers-sumo';

/** The exports of the libsodium module used here (libsodium.js leaves them untyped). */
interface SodiumModule {
  /** The module's memory; replaced when it grows, so read it after every call that may allocate. */
  readonly HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(address: number): void;
  /** q = n·B in ristretto255 (n's top bit cleared); −1 when q is the identity. */
  _crypto_scalarmult_ristretto255_base(q: number, n: number): number;
  /** q = n·p in ristretto255 (n's top bit cleared); −1 when p is no valid encoding or q is the identity. */
  _crypto_scalarmult_ristretto255(q: number, n: number, p: number): number;
  /** r = p + q in ristretto255; −1 when p or q is no valid encoding. */
  _crypto_core_ristretto255_add(r: number, p: number, q: number): number;
  /** r = p − q in ristretto255; −1 when p or q is no valid encoding. */
  _crypto_core_ristretto255_sub(r: number, p: number, q: number): number;
}

const EXPORTS = [
  '_malloc',
  '_free',
  '_crypto_scalarmult_ristretto255_base',
  '_crypto_scalarmult_ristretto255',
  '_crypto_core_ristretto255_add',
  '_crypto_core_ristretto255_sub',
] as const;

await sodium.ready;
const exported = (sodium as unknown as { readonly libsodium?: Partial<Record<(typeof EXPORTS)[number], unknown>> }).libsodium;
const missing = EXPORTS.filter((name) => typeof exported?.[name] !== 'function');
if (missing.length) throw new Error(`libsodium-wrappers-sumo no longer exposes ${missing.join(', ')}: sodium-module.ts needs updating`);
export const sodiumModule = exported as unknown as SodiumModule;

/**
 * Runs a libsodium export on `inputs` copied into the module's memory, with a 32-byte output
 * placed after them: the output, or undefined when the export returns non-zero. Everything put
 * in the module's memory is wiped before it is freed, so a secret input or result leaves no
 * copy there.
 */
export function callWiped(inputs: readonly Uint8Array[], run: (out: number, ...inputs: number[]) => number): Uint8Array | undefined {
  const lib = sodiumModule;
  const size = inputs.reduce((n, b) => n + b.length, 32);
  const address = lib._malloc(size);
  if (address === 0) throw new Error('libsodium: out of memory');
  try {
    const at: number[] = [];
    let next = address;
    for (const b of inputs) {
      lib.HEAPU8.set(b, next);
      at.push(next);
      next += b.length;
    }
    if (run(next, ...at) !== 0) return undefined;
    return lib.HEAPU8.slice(next, next + 32);
  } finally {
    lib.HEAPU8.fill(0, address, address + size);
    lib._free(address);
  }
}
