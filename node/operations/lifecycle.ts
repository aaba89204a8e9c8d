/**
 * A key's lifecycle on a node: proactive refresh, resharing (as a dealer, a new holder, or
 * both) and repair (as a helper or as the node that lost its share). New shares are staged
 * beside the current epoch and become current only when the coordinator confirms (or a later
 * signed request names the epoch). Dealers and helpers check the request's custody against the
 * one they keep, and custody is part of the protocol id, so everyone in a session holds the same.
 */
import { custodyTag, custodyViolation, sameCustody, type RefreshRequest, type RepairRequest, type ReshareRequest } from '../../cluster/control.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import { sortedParties, type PartyId } from '../../protocol/core/ids.ts';
import { schemeOf } from '../../protocol/schemes/index.ts';
import { placementViolation } from '../../cluster/policy/placement.ts';
import type { ProtocolStart } from '../../protocol/core/party.ts';
import { decodeShare, loadAtEpoch, storeShare } from '../store/share-access.ts';
import type { StoredKey } from '../store/types.ts';
import { custodyOf, refuse, type NodeContext } from './context.ts';

export async function startRefresh(ctx: NodeContext, request: RefreshRequest): Promise<void> {
  const id = await ctx.claimSession(request.keyId, request.session);
  const parties = sortedParties(request.parties);
  const loaded = await loadAtEpoch(ctx.vault, ctx.self, request.keyId, request.epoch - 1);
  if (!loaded.ok) return refuse(ctx, id, loaded.refusal);
  const adapter = schemeOf(loaded.value.key.scheme).adapter;
  const decoded = decodeShare(adapter, loaded.value, () => (adapter.refresh ? undefined : { reason: `scheme ${loaded.value.key.scheme} has no refresh yet` }));
  if (!decoded.ok) return refuse(ctx, id, decoded.refusal);
  const refresh = adapter.refresh!; // checked before decoding
  const share = decoded.value;
  const base = { keyId: request.keyId, session: id, signers: parties };
  await ctx.audit({ event: 'refresh', ...base, outcome: 'started' });
  ctx.sessions.start({
    id,
    keyId: request.keyId,
    parties,
    machine: { kind: 'inline', protocol: refresh.protocol(share), start: refresh.start(share) },
    dispose: () => adapter.wipe(share),
    complete: async (next) => {
      const groupKey = adapter.groupKey(next);
      await storeShare(adapter, next, (encoded) => ctx.vault.stageEpoch(request.keyId, request.epoch, encoded));
      await ctx.audit({ event: 'refresh', ...base, outcome: 'completed' });
      return { type: 'refresh_done', session: request.session, keyId: request.keyId, epoch: request.epoch, groupKey: groupKey as Bytes };
    },
  });
}

export async function startReshare(ctx: NodeContext, request: ReshareRequest): Promise<void> {
  const id = await ctx.claimSession(request.keyId, request.session);
  const dealers = sortedParties(request.dealers);
  const newParties = sortedParties(request.newParties);
  const parties = sortedParties([...new Set([...dealers, ...newParties])]);
  const adapter = schemeOf(request.scheme).adapter;
  const reshare = adapter.reshare;
  if (!reshare) return refuse(ctx, id, { reason: `scheme ${request.scheme} has no resharing yet` });
  // The committee must keep the key's custody (every dealer holds it and checks it here; a new
  // holder adopts it). A coordinator that reshares to t−1 nodes of its own finds no honest dealer.
  const broken = custodyViolation(request.custody, request.newThreshold, newParties, ctx.members);
  if (broken) return refuse(ctx, id, { reason: `resharing refused: ${broken}` });
  const misplaced = placementViolation((await ctx.policy.active()).policy, request.newThreshold, newParties, ctx.self, ctx.vendor);
  if (misplaced) return refuse(ctx, id, { code: 'policy_denied', reason: `resharing refused by the placement rule: ${misplaced}` });
  let share: unknown;
  if (dealers.includes(ctx.self)) {
    const loaded = await loadAtEpoch(ctx.vault, ctx.self, request.keyId, request.epoch - 1);
    if (!loaded.ok) return refuse(ctx, id, loaded.refusal);
    const stored = loaded.value;
    const decoded = decodeShare(adapter, stored, () => {
      if (!sameCustody(custodyOf(ctx, stored.key), request.custody)) return { reason: `resharing refused: the request's custody is not key ${request.keyId}'s` };
      const strangers = dealers.filter((p) => !stored.key.parties.includes(p));
      return strangers.length ? { reason: `resharing refused: dealer(s) ${strangers.join(', ')} hold no share of key ${request.keyId}` } : undefined;
    });
    if (!decoded.ok) return refuse(ctx, id, decoded.refusal);
    share = decoded.value;
  }
  const base = { keyId: request.keyId, session: id, signers: parties };
  await ctx.audit({ event: 'reshare', ...base, outcome: 'started' });
  ctx.sessions.start({
    id,
    keyId: request.keyId,
    parties,
    machine: { kind: 'inline', protocol: `${reshare.protocol}/${custodyTag(request.custody)}`, start: reshare.start({ dealers, newParties, newThreshold: request.newThreshold }, share) as ProtocolStart<unknown> },
    dispose: () => share !== undefined && adapter.wipe(share),
    complete: async (next) => {
      await ctx.audit({ event: 'reshare', ...base, outcome: 'completed' });
      if (next === undefined) return undefined; // a dealer leaving the committee
      const committee: StoredKey = {
        keyId: request.keyId,
        scheme: request.scheme,
        threshold: request.newThreshold,
        parties: newParties,
        custody: request.custody,
        groupKey: adapter.groupKey(next),
        chainCode: adapter.chainCode(next),
      };
      const digest = reshare.digest(next);
      await storeShare(adapter, next, (encoded) => ctx.vault.stageEpoch(request.keyId, request.epoch, encoded, committee));
      return { type: 'reshare_done', session: request.session, keyId: request.keyId, epoch: request.epoch, groupKey: committee.groupKey as Bytes, commitmentsDigest: digest as Bytes };
    },
  });
}

export async function startRepair(ctx: NodeContext, request: RepairRequest): Promise<void> {
  const id = await ctx.claimSession(request.keyId, request.session);
  const parties = sortedParties([...request.helpers, request.lost]);
  const adapter = schemeOf(request.scheme).adapter;
  const repair = adapter.repair;
  if (!repair) return refuse(ctx, id, { reason: `scheme ${request.scheme} has no repair yet` });
  const base = { keyId: request.keyId, session: id, signers: parties };
  const protocol = `${repair.protocol}/${custodyTag(request.custody)}`;
  if (request.lost === ctx.self) {
    if (await ctx.vault.hasKey(request.keyId)) return refuse(ctx, id, { reason: `node ${ctx.self} still holds key ${request.keyId}; destroy its copy before repairing` });
    const broken = custodyViolation(request.custody, request.custody.minThreshold, request.custody.members, ctx.members);
    if (broken || !request.custody.members.includes(ctx.self)) return refuse(ctx, id, { reason: `repair refused: ${broken ?? `node ${ctx.self} may not hold this key`}` });
    await ctx.audit({ event: 'repair', ...base, outcome: 'started' });
    ctx.sessions.start({
      id,
      keyId: request.keyId,
      parties,
      machine: { kind: 'inline', protocol, start: repair.target() },
      complete: async (share) => {
        const key: StoredKey = {
          keyId: request.keyId,
          scheme: request.scheme,
          threshold: adapter.threshold(share),
          parties: (share as { parties: readonly PartyId[] }).parties,
          groupKey: adapter.groupKey(share),
          chainCode: adapter.chainCode(share),
          custody: request.custody,
        };
        await storeShare(adapter, share, (encoded) => ctx.vault.saveShare(key, encoded, request.epoch));
        await ctx.audit({ event: 'repair', ...base, outcome: 'completed' });
        return { type: 'repair_done', session: request.session, keyId: request.keyId };
      },
    });
    return;
  }
  const loaded = await loadAtEpoch(ctx.vault, ctx.self, request.keyId, request.epoch);
  if (!loaded.ok) return refuse(ctx, id, loaded.refusal);
  const stored = loaded.value;
  const decoded = decodeShare(adapter, stored, () => {
    // A repair rebuilds a holder's share for that holder: never a share for a new party.
    const strangers = [request.lost, ...request.helpers].filter((p) => !stored.key.parties.includes(p));
    if (strangers.length) return { reason: `repair refused: node(s) ${strangers.join(', ')} hold no share of key ${request.keyId}` };
    return sameCustody(custodyOf(ctx, stored.key), request.custody) ? undefined : { reason: `repair refused: the request's custody is not key ${request.keyId}'s` };
  });
  if (!decoded.ok) return refuse(ctx, id, decoded.refusal);
  const share = decoded.value;
  await ctx.audit({ event: 'repair', ...base, outcome: 'started' });
  ctx.sessions.start({
    id,
    keyId: request.keyId,
    parties,
    machine: { kind: 'inline', protocol, start: repair.helper(share, request.lost) },
    complete: async () => {
      await ctx.audit({ event: 'repair', ...base, outcome: 'completed' });
      return undefined;
    },
    dispose: () => adapter.wipe(share),
  });
}
