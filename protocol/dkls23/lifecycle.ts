/**
 * Refresh and resharing of a DKLs23 key: the FROST protocols on the key share's secp256k1 core
 * (protocol/frost/refresh.ts, reshare.ts), then a fresh pairwise setup among the holders of the
 * new shares (keygen.ts rounds 3–4). The new epoch shares no OT state with the old one, so a
 * refresh also heals pairs that a consistency-check abort burned.
 */
import { andThen } from '../core/compose.ts';
import type { PartyId } from '../core/ids.ts';
import type { ProtocolStart, Transition } from '../core/party.ts';
import { frostRefresh } from '../threshold/refresh.ts';
import { frostReshare } from '../threshold/reshare.ts';
import { pairwiseSetup } from './keygen.ts';
import { DKLS_SCHEME, type DklsKeyShare } from './keys.ts';

export const dklsRefreshProtocol = `dkls23-refresh/${DKLS_SCHEME}/v2`;
export const dklsReshareProtocol = `dkls23-reshare/${DKLS_SCHEME}/v2`;

/** Every holder takes part; the output is this holder's share of the next epoch. */
export function dklsRefresh(share: DklsKeyShare): ProtocolStart<DklsKeyShare> {
  return (ctx) => andThen(frostRefresh(share.core)(ctx), (core) => pairwiseSetup(ctx, core));
}

export interface DklsReshareParams {
  readonly dealers: readonly PartyId[];
  readonly newParties: readonly PartyId[];
  readonly newThreshold: number;
}

/** Dealers pass their share; new holders pass undefined. Dealers that leave output undefined. */
export function dklsReshare(params: DklsReshareParams, share: DklsKeyShare | undefined): ProtocolStart<DklsKeyShare | undefined> {
  return (ctx) =>
    andThen(frostReshare({ scheme: 'frost-secp256k1', ...params }, share?.core)(ctx), (out): Transition<DklsKeyShare | undefined> =>
      'dealt' in out ? { send: {}, output: undefined } : pairwiseSetup(ctx, out, params.newParties),
    );
}
