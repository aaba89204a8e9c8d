/**
 * Runs DKLs23 key generation and signing with every party in this process, through the
 * in-process driver (wire codec included). For tests, benchmarks and the simulation harness.
 */
import { inProcessAuth, outputsOrThrow, runParties, type DriverOptions, type RunResult } from './driver.ts';
import { sessionId, type PartyId } from '../core/ids.ts';
import { Party, type PartyAuth, type ProtocolStart } from '../core/party.ts';
import { partyRange, systemRng } from './frost.ts';
import { dklsKeygen, dklsKeygenProtocol } from '../dkls23/keygen.ts';
import type { DklsKeyShare } from '../dkls23/keys.ts';
import { dklsPresign, dklsPresignLockstepProtocol, dklsPresignProtocol, dklsSign, dklsSignProtocol, type EcdsaSignature } from '../dkls23/sign.ts';
import { lockstep } from '../core/lockstep.ts';
import { dklsPresignedSignProtocol, dklsSignPresigned, type DklsPresignature } from '../dkls23/presigned.ts';

export function runDklsKeygen(
  threshold: number,
  n: number,
  opts: DriverOptions & { auth?: Map<PartyId, PartyAuth>; byzantine?: (self: PartyId, honest: ProtocolStart<DklsKeyShare>) => ProtocolStart<DklsKeyShare> } = {},
): RunResult<DklsKeyShare> {
  const ids = partyRange(n);
  const auth = opts.auth ?? inProcessAuth(ids);
  const session = sessionId(systemRng(32));
  const parties = ids.map((self) => {
    const honest = dklsKeygen({ threshold });
    return new Party({ protocol: dklsKeygenProtocol, session, self, parties: ids, rng: systemRng, auth: auth.get(self)! }, opts.byzantine ? opts.byzantine(self, honest) : honest);
  });
  return runParties(parties, opts);
}

/** Key shares of a successful key generation, or throws with the first abort. */
export function dklsKeys(threshold: number, n: number): Map<PartyId, DklsKeyShare> {
  return outputsOrThrow(runDklsKeygen(threshold, n));
}

/** Signing with every signer combining (default) or with one `aggregator`, as nodes sign. */
export function runDklsSign(
  keys: ReadonlyMap<PartyId, DklsKeyShare>,
  signers: readonly PartyId[],
  digest: Uint8Array,
  opts: DriverOptions & { aggregator?: PartyId; byzantine?: (self: PartyId, honest: ProtocolStart<EcdsaSignature | undefined>) => ProtocolStart<EcdsaSignature | undefined> } = {},
): RunResult<EcdsaSignature | undefined> {
  const session = sessionId(systemRng(32));
  const parties = signers.map((self) => {
    const honest = opts.aggregator === undefined ? dklsSign(keys.get(self)!, digest) : dklsSign(keys.get(self)!, digest, { aggregator: opts.aggregator });
    return new Party({ protocol: dklsSignProtocol, session, self, parties: signers, rng: systemRng }, opts.byzantine ? opts.byzantine(self, honest) : honest);
  });
  return runParties(parties, opts);
}

/** Presigning for `signers`: each signer's part of one presignature (`context` is bound into it). */
export function runDklsPresign(keys: ReadonlyMap<PartyId, DklsKeyShare>, signers: readonly PartyId[], opts: DriverOptions & { context?: Uint8Array } = {}): RunResult<DklsPresignature> {
  const session = sessionId(systemRng(32));
  const parties = signers.map(
    (self) => new Party({ protocol: dklsPresignProtocol, session, self, parties: signers, rng: systemRng }, dklsPresign(keys.get(self)!, opts.context ? { context: opts.context } : {})),
  );
  return runParties(parties, opts);
}

/** Presigning `count` presignatures in one session (the instances in lockstep, as nodes do). */
export function runDklsPresignLockstep(keys: ReadonlyMap<PartyId, DklsKeyShare>, signers: readonly PartyId[], count: number, opts: DriverOptions = {}): RunResult<DklsPresignature[]> {
  const session = sessionId(systemRng(32));
  const parties = signers.map((self) => new Party({ protocol: dklsPresignLockstepProtocol, session, self, parties: signers, rng: systemRng }, lockstep(count, () => dklsPresign(keys.get(self)!))));
  return runParties(parties, opts);
}

/** The one flight of presigned signing; `digestOf` plays a coordinator that gives a signer another digest. */
export function runDklsSignPresigned(
  presignatures: ReadonlyMap<PartyId, DklsPresignature>,
  digest: Uint8Array,
  opts: DriverOptions & { aggregator?: PartyId; digestOf?: (self: PartyId) => Uint8Array | undefined } = {},
): RunResult<EcdsaSignature | undefined> {
  const session = sessionId(systemRng(32));
  const signers = [...presignatures.keys()].sort((a, b) => a - b);
  const parties = signers.map(
    (self) =>
      new Party(
        { protocol: dklsPresignedSignProtocol, session, self, parties: signers, rng: systemRng },
        dklsSignPresigned(presignatures.get(self)!, opts.digestOf?.(self) ?? digest, opts.aggregator === undefined ? {} : { aggregator: opts.aggregator }),
      ),
  );
  return runParties(parties, opts);
}
