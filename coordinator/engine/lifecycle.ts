/**
 * The lifecycle of a key after its creation: proactive refresh, resharing to a new committee,
 * repair of a lost share, destruction. Refresh and resharing are two-phase: every holder
 * computes and stages the next epoch's share; once all have, the registry records the new
 * epoch (the commit point) and the holders are told to confirm it, erasing the old one. Before
 * the commit, signing goes on with the old epoch; after it, sign requests name the new epoch,
 * so a holder whose confirm was lost confirms on first use.
 */
import { custodyViolation } from '../../cluster/control.ts';
import { partyId, sortedParties } from '../../protocol/core/ids.ts';
import { committeeViolation } from '../../cluster/policy/placement.ts';
import { schemeOf } from '../../protocol/schemes/index.ts';
import { ServiceError, type KeyInfo, type KeyStatus, type NodeId, type RequestContext } from '../service.ts';
import { ENGINE_DEFAULTS } from './defaults.ts';
import { withProgress } from './progress.ts';
import { custodyOf, requireKey, requireMembers, requireOnline, requireThreshold, trustedOnline, type EngineContext } from './context.ts';

export async function setKeyStatus(ctx: EngineContext, id: string, status: KeyStatus): Promise<KeyInfo> {
  const next = { ...requireKey(ctx, id), status };
  await ctx.opts.registry.put(next);
  return next;
}

/** Proactive refresh: every share changes, the public key does not. */
export async function refreshKey(ctx: EngineContext, id: string, rc: RequestContext): Promise<KeyInfo> {
  const key = requireKey(ctx, id);
  if (!schemeOf(key.scheme).adapter.refresh) throw new ServiceError('unsupported', `refresh is not available for ${key.scheme} yet`);
  requireOnline(ctx, key.nodes, 'a refresh needs every holder online');
  const { dispatch } = ctx;
  dispatch.admit();
  const epoch = (key.epoch ?? 0) + 1;
  const command = dispatch.command('refresh', { keyId: id, epoch, parties: key.nodes.map(partyId) });
  const deadline = Math.min(rc.deadline, Date.now() + (ctx.opts.keygenTimeoutMs ?? ENGINE_DEFAULTS.keygenTimeoutMs));
  return withProgress(rc, command.session, 'refresh', id, key.nodes, async (nodeDone) => {
    await dispatch.collect(command, key.nodes, deadline, 'refresh did not finish in time; the key keeps its current epoch', (node, report, { finish, fail }) => {
      if (report.type === 'failed') {
        ctx.reputation.blame(report.culprits, node);
        fail(new ServiceError('internal', `refresh aborted by node ${node}: ${dispatch.failure('refresh', node, report, rc.requestId)}; the key keeps its current epoch`));
      } else if (report.type === 'refresh_done' && report.keyId === id && report.epoch === epoch) {
        if (key.groupKey && Buffer.from(report.groupKey).toString('hex') !== key.groupKey) return fail(new ServiceError('internal', `node ${node} refreshed to another group key`));
        if (nodeDone(node) === key.nodes.length) finish();
      }
    });
    const next: KeyInfo = { ...key, epoch };
    await ctx.opts.registry.put(next); // commit point
    ctx.presign.voidKey(id); // the nodes erase theirs as they confirm the new epoch
    dispatch.notify(key.nodes, dispatch.command('confirm_epoch', { keyId: id, epoch }));
    return next;
  });
}

/**
 * Resharing to a new committee and/or threshold, public key unchanged: t old holders deal,
 * every new holder stages its share; once all agree (same group key, same new commitments) the
 * registry commits the new committee and epoch, new holders confirm, and removed holders are
 * told to erase theirs. `notDealing` leaves a holder out of the dealers (repair by resharing).
 */
export async function reshareKey(
  ctx: EngineContext,
  id: string,
  request: { nodes: readonly NodeId[]; threshold: number },
  rc: RequestContext,
  opts: { notDealing?: NodeId } = {},
): Promise<KeyInfo> {
  const key = requireKey(ctx, id);
  if (!schemeOf(key.scheme).adapter.reshare) throw new ServiceError('unsupported', `resharing is not available for ${key.scheme} yet`);
  const newNodes = sortedParties(request.nodes) as NodeId[];
  requireMembers(ctx, newNodes);
  if (newNodes.length < 2 || new Set(newNodes).size !== newNodes.length) throw new ServiceError('invalid_request', 'the new committee needs at least 2 distinct nodes');
  requireThreshold(request.threshold, newNodes.length);
  const custody = custodyOf(ctx, key);
  const broken = custodyViolation(custody, request.threshold, newNodes.map(partyId), ctx.opts.nodes.map(partyId));
  if (broken) throw new ServiceError('invalid_request', `resharing would break key ${id}'s custody: ${broken}`);
  // The nodes check the placement rule themselves; this only answers sooner.
  const misplaced = committeeViolation(ctx.policy.policy, request.threshold, newNodes.map(partyId));
  if (misplaced) throw new ServiceError('policy_denied', `placement rule: ${misplaced}`);
  requireOnline(ctx, newNodes, 'every new holder must be online');
  const candidates = trustedOnline(ctx, key.nodes.filter((n) => n !== opts.notDealing));
  if (candidates.length < key.threshold) throw new ServiceError('quorum_unavailable', `resharing needs ${key.threshold} old holders online, ${candidates.length} are`);
  const { dispatch } = ctx;
  dispatch.admit();
  const dealers = sortedParties(candidates.slice(0, key.threshold)) as NodeId[];
  const epoch = (key.epoch ?? 0) + 1;
  const participants = sortedParties([...new Set([...dealers, ...newNodes])]) as NodeId[];
  const command = dispatch.command('reshare', {
    keyId: id,
    scheme: key.scheme,
    epoch,
    dealers: dealers.map(partyId),
    newParties: newNodes.map(partyId),
    newThreshold: request.threshold,
    custody,
  });
  const done = new Map<NodeId, string>();
  return withProgress(rc, command.session, 'reshare', id, newNodes, async (nodeDone) => {
    await dispatch.collect(command, participants, rc.deadline, 'resharing did not finish in time; the key keeps its committee', (node, report, { finish, fail }) => {
      if (report.type === 'failed') {
        ctx.reputation.blame(report.culprits, node);
        fail(
          report.code === 'policy_denied'
            ? new ServiceError('policy_denied', `node ${node}: ${report.reason}; the key keeps its committee`)
            : new ServiceError('internal', `resharing aborted by node ${node}: ${dispatch.failure('reshare', node, report, rc.requestId)}; the key keeps its committee`),
        );
      } else if (report.type === 'reshare_done' && report.keyId === id && report.epoch === epoch && newNodes.includes(node)) {
        if (key.groupKey && Buffer.from(report.groupKey).toString('hex') !== key.groupKey) return fail(new ServiceError('internal', `node ${node} reshared to another group key`));
        done.set(node, Buffer.from(report.commitmentsDigest).toString('hex'));
        nodeDone(node);
        if (done.size === newNodes.length) {
          if (new Set(done.values()).size !== 1) return fail(new ServiceError('internal', 'new holders disagree on the new commitments'));
          finish();
        }
      }
    });
    const next: KeyInfo = { ...key, nodes: newNodes, threshold: request.threshold, epoch };
    await ctx.opts.registry.put(next); // commit point
    ctx.presign.voidKey(id); // the nodes erase theirs as they confirm the new epoch
    dispatch.notify(newNodes, dispatch.command('confirm_epoch', { keyId: id, epoch }));
    const removed = key.nodes.filter((n) => !newNodes.includes(n));
    if (removed.length) dispatch.notify(removed, dispatch.command('destroy', { keyId: id }));
    return next;
  });
}

/**
 * Share repair: `node` lost its share (disk gone, store wiped); t other holders rebuild it for
 * it without anyone learning it. The node must be online with the key absent from its store.
 */
export async function repairKey(ctx: EngineContext, id: string, node: NodeId, rc: RequestContext): Promise<void> {
  const key = requireKey(ctx, id);
  if (!key.nodes.includes(node)) throw new ServiceError('invalid_request', `node ${node} holds no share of key ${id}`);
  // A node that lost its share lost its presignatures with it.
  ctx.presign.forgetNode(node);
  const adapter = schemeOf(key.scheme).adapter;
  if (adapter.repairByResharing) {
    if (!ctx.liveness.isOnline(node)) throw new ServiceError('quorum_unavailable', `node ${node} is offline`);
    await reshareKey(ctx, id, { nodes: key.nodes, threshold: key.threshold }, rc, { notDealing: node });
    return;
  }
  if (!adapter.repair) throw new ServiceError('unsupported', `repair is not available for ${key.scheme} yet`);
  if (!ctx.liveness.isOnline(node)) throw new ServiceError('quorum_unavailable', `node ${node} is offline`);
  const others = trustedOnline(ctx, key.nodes.filter((n) => n !== node));
  if (others.length < key.threshold) throw new ServiceError('quorum_unavailable', `repair needs ${key.threshold} helpers online, ${others.length} are`);
  const { dispatch } = ctx;
  dispatch.admit();
  const helpers = others.slice(0, key.threshold);
  const command = dispatch.command('repair', { keyId: id, scheme: key.scheme, epoch: key.epoch ?? 0, lost: partyId(node), helpers: helpers.map(partyId), custody: custodyOf(ctx, key) });
  await withProgress(rc, command.session, 'repair', id, [node], (nodeDone) =>
    dispatch.collect(command, [...helpers, node], rc.deadline, 'repair did not finish in time', (from, report, { finish, fail }) => {
      if (report.type === 'failed') {
        ctx.reputation.blame(report.culprits, node);
        fail(new ServiceError('internal', `repair aborted by node ${from}: ${dispatch.failure('repair', from, report, rc.requestId)}`));
      } else if (report.type === 'repair_done' && from === node && report.keyId === id) {
        nodeDone(node);
        finish();
      }
    }),
  );
}

/**
 * Crypto-shredding: every node of the key erases all its epochs, then the key is forgotten.
 * Needs every node online (a share left behind on an offline node would survive); the call
 * can be repeated until it succeeds, since erasing is idempotent.
 */
export async function destroyKey(ctx: EngineContext, id: string, rc: RequestContext): Promise<void> {
  const key = requireKey(ctx, id);
  requireOnline(ctx, key.nodes, 'destroying a key needs all its nodes online');
  if (key.status !== 'disabled') await setKeyStatus(ctx, id, 'disabled'); // no signing while shares are being erased
  ctx.presign.voidKey(id);
  const command = ctx.dispatch.command('destroy', { keyId: id });
  const done = new Set<NodeId>();
  await withProgress(rc, command.session, 'destroy', id, key.nodes, async (nodeDone) => {
    await ctx.dispatch.collect(command, key.nodes, rc.deadline, () => `nodes ${key.nodes.filter((n) => !done.has(n)).join(', ')} did not confirm erasure`, (node, report, { finish }) => {
      if (report.type !== 'destroyed' || report.keyId !== id) return;
      done.add(node);
      if (nodeDone(node) === key.nodes.length) finish();
    });
    await ctx.opts.registry.delete(id);
    ctx.presign.forgetKey(id);
  });
}
