/**
 * Runs FROST DKG and signing with every party in this process, through the in-process
 * driver (wire codec included). For tests, benchmarks, the demo and the simulation harness.
 */
import { randomBytes } from 'node:crypto';
import { inProcessAuth, outputsOrThrow, runParties, type DriverOptions, type RunResult } from './driver.ts';
import { partyId, sessionId, type PartyId, type Rng } from '../core/ids.ts';
import { Party, type PartyAuth, type ProtocolStart } from '../core/party.ts';
import { frostDkg, frostDkgProtocol } from '../threshold/dkg.ts';
import type { FrostKeyShare } from '../threshold/keys.ts';
import { frostSign, frostSignProtocol, type FrostSignature } from '../frost/sign.ts';
import { frostSignCoordinated, frostSignCoordinatedProtocol, type FrostSignOutcome } from '../frost/sign-coordinated.ts';
import { frostCommitAhead, frostPresignedSignProtocol, frostSignPresigned, type FrostCommitments, type FrostPresignature } from '../frost/presigned.ts';
import type { FrostScheme } from '../curves/ciphersuites.ts';

export const systemRng: Rng = (n) => new Uint8Array(randomBytes(n));

export function partyRange(n: number): PartyId[] {
  return Array.from({ length: n }, (_, i) => partyId(i + 1));
}

export function runFrostDkg(
  scheme: FrostScheme,
  threshold: number,
  n: number,
  opts: DriverOptions & {
    auth?: Map<PartyId, PartyAuth>;
    /** Replaces a party's protocol, e.g. with a byzantine variant (tests, simulations). */
    byzantine?: (self: PartyId, honest: ProtocolStart<FrostKeyShare>) => ProtocolStart<FrostKeyShare>;
  } = {},
): RunResult<FrostKeyShare> {
  const ids = partyRange(n);
  const auth = opts.auth ?? inProcessAuth(ids);
  const session = sessionId(systemRng(32));
  const protocol = frostDkgProtocol(scheme);
  const parties = ids.map((self) => {
    const honest = frostDkg({ scheme, threshold });
    return new Party({ protocol, session, self, parties: ids, rng: systemRng, auth: auth.get(self)! }, opts.byzantine ? opts.byzantine(self, honest) : honest);
  });
  return runParties(parties, opts);
}

/** Keys of a successful DKG, or throws with the first abort. */
export function frostKeys(scheme: FrostScheme, threshold: number, n: number): Map<PartyId, FrostKeyShare> {
  return outputsOrThrow(runFrostDkg(scheme, threshold, n));
}

export function runFrostSign(
  keys: ReadonlyMap<PartyId, FrostKeyShare>,
  signers: readonly PartyId[],
  message: Uint8Array,
  opts: DriverOptions = {},
): RunResult<FrostSignature> {
  const auth = inProcessAuth(signers);
  const session = sessionId(systemRng(32));
  const parties = signers.map((self) => {
    const key = keys.get(self)!;
    return new Party({ protocol: frostSignProtocol(key), session, self, parties: signers, rng: systemRng, auth: auth.get(self)! }, frostSign(key, message));
  });
  return runParties(parties, opts);
}

/**
 * Signing in the coordinator model (`sign-coordinated.ts`): `aggregator` (default: the first
 * signer) alone aggregates; `signature` is its output. `inputsOf` plays a coordinator that gives
 * a signer another message or context than the others.
 */
export function runFrostSignCoordinated(
  keys: ReadonlyMap<PartyId, FrostKeyShare>,
  signers: readonly PartyId[],
  message: Uint8Array,
  opts: DriverOptions & { aggregator?: PartyId; inputsOf?: (self: PartyId) => { message?: Uint8Array; context?: Uint8Array } | undefined } = {},
): RunResult<FrostSignOutcome> & { signature?: FrostSignature } {
  const aggregator = opts.aggregator ?? signers[0]!;
  const session = sessionId(systemRng(32));
  const parties = signers.map((self) => {
    const key = keys.get(self)!;
    const inputs = opts.inputsOf?.(self);
    const start = frostSignCoordinated(key, inputs?.message ?? message, aggregator, inputs?.context);
    return new Party({ protocol: frostSignCoordinatedProtocol(key), session, self, parties: signers, rng: systemRng }, start);
  });
  const result = runParties(parties, opts);
  const out = result.outputs.get(aggregator);
  return out?.kind === 'signature' ? { ...result, signature: out } : result;
}

/**
 * Signing with nonces committed ahead: every signer commits (`frostCommitAhead`), the list is
 * assembled in signer order, and one flight goes to `aggregator` (default: the first signer).
 * `listOf` plays a coordinator that gives a signer another list.
 */
export function runFrostSignPresigned(
  keys: ReadonlyMap<PartyId, FrostKeyShare>,
  signers: readonly PartyId[],
  message: Uint8Array,
  opts: DriverOptions & { presignatures?: ReadonlyMap<PartyId, FrostPresignature>; listOf?: (self: PartyId, list: FrostCommitments[]) => FrostCommitments[] } = {},
): RunResult<FrostSignOutcome> & { signature?: FrostSignature } {
  const aggregator = signers[0]!;
  const session = sessionId(systemRng(32));
  const own = opts.presignatures ?? new Map(signers.map((p) => [p, frostCommitAhead(keys.get(p)!, systemRng)] as const));
  const list = signers.map((p) => own.get(p)!.commitments);
  const parties = signers.map((self) => {
    const key = keys.get(self)!;
    const start = frostSignPresigned(key, message, aggregator, own.get(self)!, opts.listOf?.(self, list) ?? list);
    return new Party({ protocol: frostPresignedSignProtocol(key), session, self, parties: signers, rng: systemRng }, start);
  });
  const result = runParties(parties, opts);
  const out = result.outputs.get(aggregator);
  return out?.kind === 'signature' ? { ...result, signature: out } : result;
}
