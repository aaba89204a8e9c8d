/** Key generation on a node: run the scheme's DKG with the named parties and seal the share it outputs. */
import { custodyViolation, type KeygenRequest } from '../../cluster/control.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import { sortedParties } from '../../protocol/core/ids.ts';
import { schemeOf } from '../../protocol/schemes/index.ts';
import { storeShare, type Refusal } from '../store/share-access.ts';
import type { StoredKey } from '../store/types.ts';
import { refuse, type NodeContext } from './context.ts';
import { placementViolation } from '../../cluster/policy/placement.ts';

export async function startKeygen(ctx: NodeContext, request: KeygenRequest): Promise<void> {
  const id = await ctx.claimSession(request.keyId, request.session);
  const parties = sortedParties(request.parties);
  const refusal = async (): Promise<Refusal | undefined> => {
    if (!parties.includes(ctx.self)) return { reason: `node ${ctx.self} is not in the key's party set` };
    if (await ctx.vault.hasKey(request.keyId)) return { reason: `key ${request.keyId} already exists on node ${ctx.self}` };
    const broken = custodyViolation(request.custody, request.threshold, parties, ctx.members);
    if (broken) return { reason: `key generation refused: ${broken}` };
    if (request.custody.minThreshold > request.threshold) return { reason: `key generation refused: minimum threshold ${request.custody.minThreshold} above the threshold ${request.threshold}` };
    const misplaced = placementViolation((await ctx.policy.active()).policy, request.threshold, parties, ctx.self, ctx.vendor);
    if (misplaced) return { code: 'policy_denied', reason: `key generation refused by the placement rule: ${misplaced}` };
    return undefined;
  };
  const refused = await refusal();
  if (refused) return refuse(ctx, id, refused);
  const adapter = schemeOf(request.scheme).adapter;
  const base = { keyId: request.keyId, session: id, signers: parties };
  await ctx.audit({ event: 'keygen', ...base, outcome: 'started' });
  ctx.sessions.start({
    id,
    keyId: request.keyId,
    parties,
    machine: { kind: 'inline', protocol: adapter.dkgProtocol, start: adapter.dkg(request.threshold) },
    complete: async (share) => {
      const key: StoredKey = {
        keyId: request.keyId,
        scheme: request.scheme,
        threshold: request.threshold,
        parties,
        groupKey: adapter.groupKey(share),
        chainCode: adapter.chainCode(share),
        custody: request.custody,
        ...(request.label ? { label: request.label } : {}),
      };
      await storeShare(adapter, share, (encoded) => ctx.vault.saveShare(key, encoded));
      await ctx.audit({ event: 'keygen', ...base, outcome: 'completed' });
      return { type: 'keygen_done', session: request.session, keyId: request.keyId, groupKey: key.groupKey as Bytes, chainCode: key.chainCode as Bytes };
    },
  });
}
