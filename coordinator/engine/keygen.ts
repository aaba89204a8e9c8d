/**
 * Key generation: every chosen node runs the scheme's DKG; the key exists once all of them
 * report the same group key and chain code. Custody (minimum threshold and committee, allowed
 * members) is fixed here and kept by every holder.
 */
import { randomUUID } from 'node:crypto';
import { inferredCustody } from '../../cluster/control.ts';
import { partyId, sortedParties } from '../../protocol/core/ids.ts';
import { isScheme, schemeOf } from '../../protocol/schemes/index.ts';
import { ServiceError, type CreateKeyRequest, type KeyInfo, type NodeId, type RequestContext } from '../service.ts';
import { committeeViolation } from '../../cluster/policy/placement.ts';
import { ENGINE_DEFAULTS } from './defaults.ts';
import { withProgress } from './progress.ts';
import { requireMembers, requireOnline, requireThreshold, type EngineContext } from './context.ts';

const majority = (n: number) => Math.floor(n / 2) + 1;

export async function createKey(ctx: EngineContext, request: CreateKeyRequest, rc: RequestContext): Promise<KeyInfo> {
  if (!isScheme(request.scheme)) throw new ServiceError('unsupported', `scheme ${String(request.scheme)} is not available in this build`);
  const { opts, dispatch } = ctx;
  const nodes = sortedParties(request.nodes ?? opts.nodes) as NodeId[];
  requireMembers(ctx, nodes);
  const threshold = request.threshold ?? Math.min(opts.defaultThreshold ?? majority(nodes.length), nodes.length);
  requireThreshold(threshold, nodes.length);
  // The nodes check the placement rule themselves; this only answers sooner.
  const misplaced = committeeViolation(ctx.policy.policy, threshold, nodes.map(partyId));
  if (misplaced) throw new ServiceError('policy_denied', `placement rule: ${misplaced}`);
  requireOnline(ctx, nodes, 'key generation needs every chosen node online');
  dispatch.admit();

  const keyId = randomUUID();
  const custody = inferredCustody(threshold, nodes.map(partyId), opts.nodes.map(partyId));
  const command = dispatch.command('keygen', { keyId, scheme: request.scheme, threshold, parties: nodes.map(partyId), custody, label: request.label ?? '' });
  return withProgress(rc, command.session, 'keygen', keyId, nodes, async (nodeDone) => {
    const results = new Map<NodeId, { groupKey: string; chainCode: string }>();
    const deadline = Math.min(rc.deadline, Date.now() + (opts.keygenTimeoutMs ?? ENGINE_DEFAULTS.keygenTimeoutMs));
    await dispatch.collect(command, nodes, deadline, 'key generation did not finish in time', (node, report, { finish, fail }) => {
      if (report.type === 'failed') {
        const failure = dispatch.failure('keygen', node, report, rc.requestId);
        rc.emit({ type: 'signer_failed', session: command.session, node, reason: failure });
        ctx.reputation.blame(report.culprits, node);
        fail(report.code === 'policy_denied' ? new ServiceError('policy_denied', `node ${node}: ${report.reason}`) : new ServiceError('internal', `key generation aborted by node ${node}: ${failure}`));
      } else if (report.type === 'keygen_done' && report.keyId === keyId) {
        results.set(node, { groupKey: Buffer.from(report.groupKey).toString('hex'), chainCode: Buffer.from(report.chainCode).toString('hex') });
        if (nodeDone(node) === nodes.length) finish();
      }
    });
    const distinct = new Set([...results.values()].map((r) => `${r.groupKey}/${r.chainCode}`));
    if (distinct.size !== 1) throw new ServiceError('internal', 'nodes disagree on the generated public key');
    const { groupKey, chainCode } = results.values().next().value!;
    const groupKeyBytes = Buffer.from(groupKey, 'hex');
    const scheme = schemeOf(request.scheme);
    const info: KeyInfo = {
      id: keyId,
      scheme: request.scheme,
      threshold,
      nodes,
      publicKey: Buffer.from(scheme.userKey(groupKeyBytes)).toString('hex'),
      chainCode,
      groupKey,
      ...(request.label !== undefined ? { label: request.label } : {}),
      ...(request.metadata !== undefined ? { metadata: { ...request.metadata } } : {}),
      createdAt: new Date().toISOString(),
      status: 'active',
      epoch: 0,
      custody,
    };
    await opts.registry.put(info);
    ctx.presign.warm(info);
    return info;
  });
}
