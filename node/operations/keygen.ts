/** Key generation on a node: run the scheme's DKG with the named parties and seal the share it outputs. */
import { custodyViolation, type KeygenRequest } from '../../cluster/control.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import { sortedParties } from '../../protocol/core/ids.ts';
import { schemeOf } from '../../protocol/schemes/index.ts';
import { storeShare } from '../store/share-access.ts';
import type { StoredKey } from '../store/types.ts';
import { refuse, type NodeContext } from './context.ts';

export async function startKeygen(ctx: NodeContext, request: KeygenRequest): Promise<void> {
  const id = await ctx.claimSession(request.keyId, request.session);
  const parties = sortedParties(request.parties);
  const refusal = async () => {
    if (!parties.includes(ctx.self)) return `node ${ctx.self} is not in the key's party set`;
    if (await ctx.vault.hasKey(request.keyId)) return `key ${request.keyId} already exists on node ${ctx.self}`;
    const broken = custodyViolation(request.custody, request.threshold, parties, ctx.members);
    if (broken) return `key generation refused: ${broken}`;
    if (request.custody.minThreshold > request.threshold) return `key generation refused: minimum threshold ${request.custody.minThreshold} above the threshold ${request.threshold}`;
    return undefined;
  };
  const reason = await refusal();
  if (reason) return refuse(ctx, id, { reason });
  const adapter = schemeOf(request.scheme).adapter;
  const base = { keyId: request.keyId, session: id, signers: parties };
  await ctx.audit({ event: 'keygen', ...base, outcome: 'started' });
  ctx.sessions.start({
    id,
    keyId: request.keyId,
    protocol: adapter.dkgProtocol,
    parties,
    start: adapter.dkg(request.threshold),
    complete: async (share) => {
      const key: StoredKey = {
        keyId: request.keyId,
        scheme: request.scheme,
        threshold: request.threshold,
        parties,
        groupKey: adapter.groupKey(share),
        chainCode: adapter.chainCode(share),
        custody: request.custody,
      };
      await storeShare(adapter, share, (encoded) => ctx.vault.saveShare(key, encoded));
      await ctx.audit({ event: 'keygen', ...base, outcome: 'completed' });
      return { type: 'keygen_done', session: request.session, keyId: request.keyId, groupKey: key.groupKey as Bytes, chainCode: key.chainCode as Bytes };
    },
  });
}
