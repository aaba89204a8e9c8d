/**
 * The coordinator's side of the signing policy. It holds no power over it: it checks a
 * proposal's administrator signatures only to answer fast, relays it to every node (each checks
 * them again and applies it or not), names the version in force in every sign request (nodes
 * refuse a request naming another), and brings nodes that were away up to date.
 */
import { randomBytes } from 'node:crypto';
import { checkAdminSignatures, type AdminSignature } from '../../cluster/policy/administrators.ts';
import { NO_POLICY_HASH, PolicyError, policyFromBytes, policyHash, type Policy } from '../../cluster/policy/document.ts';
import type { CoordinatorMessage, NodeReport } from '../../cluster/control.ts';
import type { Administrators } from '../../cluster/transport/manifest.ts';
import type { Bytes } from '../../protocol/core/codec.ts';
import { ServiceError, type NodeId, type PolicyView } from '../service.ts';

/** A policy version with the signatures that made it: what the coordinator keeps on disk. */
export interface SignedPolicy {
  readonly document: Uint8Array;
  readonly signatures: readonly AdminSignature[];
}

export interface PolicyStore {
  load(): Promise<SignedPolicy | undefined>;
  save(policy: SignedPolicy): Promise<void>;
}

type NodeStatus = Extract<NodeReport, { type: 'policy_status' }>;

export class PolicyKeeper {
  private readonly nodes: readonly NodeId[];
  private readonly administrators: Administrators | undefined;
  private readonly store: PolicyStore | undefined;
  private readonly send: (node: NodeId, message: CoordinatorMessage) => Promise<void>;
  private current: { signed: SignedPolicy; policy: Policy; hash: Uint8Array } | undefined;
  private readonly statuses = new Map<NodeId, NodeStatus>();
  private readonly waiting = new Set<(node: NodeId, status: NodeStatus) => void>();

  constructor(opts: { nodes: readonly NodeId[]; administrators?: Administrators; store?: PolicyStore; send: (node: NodeId, message: CoordinatorMessage) => Promise<void> }) {
    this.nodes = opts.nodes;
    this.administrators = opts.administrators;
    this.store = opts.store;
    this.send = opts.send;
  }

  async load(): Promise<void> {
    const stored = await this.store?.load();
    if (stored) this.current = { signed: stored, policy: policyFromBytes(stored.document), hash: policyHash(stored.document) };
  }

  /** The hash sign requests name: the version the nodes must hold to take part. */
  get hash(): Uint8Array {
    return this.current?.hash ?? NO_POLICY_HASH;
  }

  get policy(): Policy | undefined {
    return this.current?.policy;
  }

  view(): PolicyView {
    const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
    return {
      version: this.current?.policy.version ?? 0,
      hash: hex(this.hash),
      ...(this.current ? { policy: this.current.policy } : {}),
      signatures: (this.current?.signed.signatures ?? []).map((s) => ({ admin: s.admin, signature: hex(s.signature), ...(s.mldsaSignature ? { mldsaSignature: hex(s.mldsaSignature) } : {}) })),
      nodes: this.nodes.map((id) => {
        const s = this.statuses.get(id);
        return { id, ...(s ? { version: s.version, hash: hex(s.hash), ...(s.error ? { error: s.error } : {}) } : {}) };
      }),
    };
  }

  /** A node's answer to a policy message. */
  onStatus(node: NodeId, status: NodeStatus): void {
    this.statuses.set(node, status);
    for (const w of this.waiting) w(node, status);
  }

  /**
   * Takes a proposal: its signatures must make the manifest's quorum and its version must be
   * newer. Sent to `online` nodes; resolves once each answered (or `timeoutMs` passed).
   */
  async propose(document: Uint8Array, signatures: readonly AdminSignature[], online: readonly NodeId[], timeoutMs: number): Promise<PolicyView> {
    let policy: Policy;
    try {
      policy = policyFromBytes(document);
    } catch (e) {
      throw new ServiceError('invalid_request', (e as PolicyError).message);
    }
    const hash = policyHash(document);
    const checked = checkAdminSignatures(this.administrators, hash, signatures);
    if (!checked.ok) throw new ServiceError('policy_invalid', checked.reason);
    const version = this.current?.policy.version ?? 0;
    if (policy.version <= version) throw new ServiceError('policy_invalid', `policy version ${policy.version} is not above the version in force (${version})`);
    this.current = { signed: { document: Uint8Array.from(document), signatures }, policy, hash };
    await this.store?.save(this.current.signed);
    await this.pushTo(online, timeoutMs);
    return this.view();
  }

  /** Sends the policy in force to `nodes` and waits for their answers (a node back from a restart or partition). */
  async pushTo(nodes: readonly NodeId[], timeoutMs = 10_000): Promise<void> {
    const current = this.current;
    if (!current || !nodes.length) return;
    const message = (): CoordinatorMessage => ({
      type: 'policy',
      nonce: randomBytes(16) as Bytes,
      document: current.signed.document as Bytes,
      signatures: current.signed.signatures.map((s) => ({ admin: s.admin, signature: s.signature as Bytes, mldsaSignature: (s.mldsaSignature ?? new Uint8Array()) as Bytes })),
    });
    const hashHex = Buffer.from(current.hash).toString('hex');
    const pending = new Set(nodes);
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting.delete(waiter);
        resolve();
      };
      const waiter = (node: NodeId, status: NodeStatus) => {
        if (!pending.has(node)) return;
        if (Buffer.from(status.hash).toString('hex') === hashHex || status.error) pending.delete(node);
        if (!pending.size) done();
      };
      const timer = setTimeout(done, timeoutMs);
      this.waiting.add(waiter);
      for (const node of nodes) void this.send(node, message()).catch(() => pending.delete(node));
    });
  }
}
