/**
 * Deterministic, strict CBOR codecs built from small combinators.
 *
 * Every struct encodes as a CBOR array in the schema's field order (never a map), so the
 * encoding of a value is unique and there is no room for unknown fields: an array with
 * more elements than the schema is rejected. Decoders validate lengths, ranges, scalars
 * and points, and throw {@link DecodeError}; nothing half-decoded escapes.
 */
import { Decoder, Encoder } from 'cbor-x';
import { DecodeError } from './errors.ts';
import { MAX_PARTY_ID, type PartyId } from './ids.ts';

/** Values that our codecs put into CBOR. */
/** A byte array that owns a plain ArrayBuffer (what decoders return). */
export type Bytes = Uint8Array<ArrayBuffer>;

export type CborValue = number | string | boolean | null | Uint8Array | CborValue[];

export interface Codec<T> {
  encode(value: T): CborValue;
  /** `path` names the field being decoded, for error messages. */
  decode(raw: unknown, path: string): T;
}

/** Largest encoded payload any protocol message may have (DKLs23 OT-extension rounds are the biggest). */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

const encoder = new Encoder({ tagUint8Array: false, useRecords: false, variableMapSize: true, pack: false });
const decoder = new Decoder({ useRecords: false, mapsAsObjects: false, int64AsType: 'number' } as ConstructorParameters<typeof Decoder>[0]);

export function encodeCbor<T>(codec: Codec<T>, value: T): Uint8Array {
  // cbor-x hands back a view into its reusable buffer: copy before the next encode overwrites it.
  return Uint8Array.from(encoder.encode(codec.encode(value)));
}

export function decodeCbor<T>(codec: Codec<T>, bytes: Uint8Array, maxBytes = MAX_MESSAGE_BYTES): T {
  return decodeCborChoosing(() => codec, bytes, maxBytes);
}

/**
 * `decodeCbor` for a format whose codec depends on a field of the value itself (a scheme named
 * inside it): `choose` sees the CBOR value as decoded, before any checks, and returns the codec
 * (or throws a DecodeError). One CBOR decode, instead of a loose one to read the field and a
 * strict one after.
 */
export function decodeCborChoosing<T>(choose: (raw: unknown) => Codec<T>, bytes: Uint8Array, maxBytes = MAX_MESSAGE_BYTES): T {
  if (bytes.length > maxBytes) throw new DecodeError('too_large', `message of ${bytes.length} bytes exceeds ${maxBytes}`);
  // Decoding makes copies (the input slice cbor-x reads, the byte strings it returns, the
  // re-encoding): they may be sealed plaintext, so all of them are wiped on every path. The
  // codec's `bytes` hands the caller fresh arrays of its own.
  const scratch = bytes.slice(); // cbor-x caches a DataView on its input; keep the caller's bytes untouched
  let raw: unknown;
  let value: T | undefined;
  let again: Uint8Array | undefined;
  try {
    try {
      raw = decoder.decode(scratch);
    } catch {
      throw new DecodeError('malformed', 'not valid CBOR');
    }
    const codec = choose(raw);
    value = codec.decode(raw, '$');
    // Deterministic encoding doubles as a canonicality check: any other encoding of the same
    // value (non-minimal integers, indefinite lengths, trailing bytes) is rejected.
    again = encodeCbor(codec, value);
    if (!bytesEqual(again, bytes)) throw new DecodeError('malformed', 'non-canonical CBOR encoding');
    return value;
  } finally {
    // Byte strings the codec handed back as they were (a pass-through codec) stay intact,
    // and so does the buffer they view.
    const kept = new Set<Uint8Array>();
    forEachBytes(value, (b) => kept.add(b));
    forEachBytes(raw, (b) => kept.has(b) || b.buffer === scratch.buffer || b.fill(0));
    if (![...kept].some((b) => b.buffer === scratch.buffer)) scratch.fill(0);
    again?.fill(0);
  }
}

/** Visits every byte string inside a value (arrays, maps and plain records, to any depth). */
function forEachBytes(v: unknown, f: (b: Uint8Array) => void): void {
  if (v instanceof Uint8Array) f(v);
  else if (Array.isArray(v)) for (const item of v) forEachBytes(item, f);
  else if (v instanceof Map) for (const [k, x] of v) (forEachBytes(k, f), forEachBytes(x, f));
  else if (v !== null && typeof v === 'object') for (const x of Object.values(v)) forEachBytes(x, f);
}

// Public bytes (the wire encoding), so a native, non-constant-time comparison is fine.
const bytesEqual = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b);

function isBytes(raw: unknown): raw is Uint8Array {
  return raw instanceof Uint8Array;
}

/** Byte string of exactly `length` bytes, or within [min, max]. Always returns a fresh, plain Uint8Array. */
export function bytes(length: number | { min: number; max: number }): Codec<Bytes> {
  const min = typeof length === 'number' ? length : length.min;
  const max = typeof length === 'number' ? length : length.max;
  return {
    encode: (v) => {
      if (v.length < min || v.length > max) throw new RangeError(`byte string of ${v.length} bytes outside [${min}, ${max}]`);
      return v;
    },
    decode: (raw, path) => {
      if (!isBytes(raw)) throw new DecodeError('malformed', `${path}: expected a byte string`);
      if (raw.length < min || raw.length > max) {
        throw new DecodeError('wrong_length', `${path}: ${raw.length} bytes, expected ${min === max ? min : `${min}..${max}`}`);
      }
      return Uint8Array.from(raw);
    },
  };
}

/** Unsigned integer in [0, max]. */
export function uint(max: number): Codec<number> {
  return {
    encode: (v) => v,
    decode: (raw, path) => {
      if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0 || raw > max) {
        throw new DecodeError('malformed', `${path}: expected an integer in [0, ${max}]`);
      }
      return raw;
    },
  };
}

export const boolean: Codec<boolean> = {
  encode: (v) => v,
  decode: (raw, path) => {
    if (typeof raw !== 'boolean') throw new DecodeError('malformed', `${path}: expected a boolean`);
    return raw;
  },
};

export function text(maxLength: number): Codec<string> {
  return {
    encode: (v) => v,
    decode: (raw, path) => {
      if (typeof raw !== 'string' || raw.length > maxLength) {
        throw new DecodeError('malformed', `${path}: expected a string of at most ${maxLength} characters`);
      }
      return raw;
    },
  };
}

export const party: Codec<PartyId> = {
  encode: (v) => v,
  decode: (raw, path) => {
    if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 1 || raw > MAX_PARTY_ID) {
      throw new DecodeError('malformed', `${path}: expected a party id`);
    }
    return raw as PartyId;
  },
};

export function array<T>(item: Codec<T>, length: number | { min: number; max: number }): Codec<T[]> {
  const min = typeof length === 'number' ? length : length.min;
  const max = typeof length === 'number' ? length : length.max;
  return {
    encode: (v) => {
      if (v.length < min || v.length > max) throw new RangeError(`array of ${v.length} items outside [${min}, ${max}]`);
      return v.map((x) => item.encode(x));
    },
    decode: (raw, path) => {
      if (!Array.isArray(raw)) throw new DecodeError('malformed', `${path}: expected an array`);
      if (raw.length < min || raw.length > max) {
        throw new DecodeError('wrong_length', `${path}: ${raw.length} items, expected ${min === max ? min : `${min}..${max}`}`);
      }
      return raw.map((x, i) => item.decode(x, `${path}[${i}]`));
    },
  };
}

type Fields<T> = { readonly [K in keyof T]: Codec<T[K]> };

/**
 * A record encoded as an array of its fields in declaration order. Extra elements are
 * unknown fields and rejected; missing ones are rejected too.
 */
export function struct<T extends object>(fields: Fields<T>): Codec<T> {
  const names = Object.keys(fields) as (keyof T & string)[];
  return {
    encode: (v) => names.map((k) => fields[k].encode(v[k])),
    decode: (raw, path) => {
      if (!Array.isArray(raw)) throw new DecodeError('malformed', `${path}: expected a record`);
      if (raw.length > names.length) throw new DecodeError('unknown_field', `${path}: ${raw.length - names.length} unknown field(s)`);
      if (raw.length < names.length) throw new DecodeError('missing_field', `${path}: missing field ${names[raw.length]}`);
      const out = {} as T;
      names.forEach((k, i) => {
        out[k] = fields[k].decode(raw[i], `${path}.${k}`);
      });
      return out;
    },
  };
}

/** A map from party id to value, encoded as `[id, value]` pairs in ascending id order. */
export function partyMap<T>(value: Codec<T>, size: { min: number; max: number }): Codec<Map<PartyId, T>> {
  return {
    encode: (m) => [...m.entries()].sort(([a], [b]) => a - b).map(([k, v]) => [k, value.encode(v)]),
    decode: (raw, path) => {
      if (!Array.isArray(raw)) throw new DecodeError('malformed', `${path}: expected a party map`);
      if (raw.length < size.min || raw.length > size.max) throw new DecodeError('wrong_length', `${path}: ${raw.length} entries`);
      const out = new Map<PartyId, T>();
      let last = 0;
      raw.forEach((entry, i) => {
        if (!Array.isArray(entry) || entry.length !== 2) throw new DecodeError('malformed', `${path}[${i}]: expected [party, value]`);
        const id = party.decode(entry[0], `${path}[${i}].party`);
        if (id <= last) throw new DecodeError('malformed', `${path}: party ids must be strictly ascending`);
        last = id;
        out.set(id, value.decode(entry[1], `${path}[${id}]`));
      });
      return out;
    },
  };
}

/** Builds a codec from a validating parse function and its inverse (for scalars, points...). */
export function custom<T>(encode: (v: T) => Uint8Array, parse: (b: Bytes, path: string) => T, length: number): Codec<T> {
  const raw = bytes(length);
  return {
    encode: (v) => encode(v),
    decode: (r, path) => parse(raw.decode(r, path), path),
  };
}
