/**
 * The fault layer between every pair of cluster members: crash (via the cluster), message
 * drop, delay with jitter, duplication, partitions, slow nodes, and byzantine nodes that tamper
 * with their own protocol messages. Every random decision comes from one seeded generator, so
 * the same seed replays the same faults.
 */
import type { ClusterMessage } from '../cluster/control.ts';
import { decodeMessage, encodeMessage, type ProtocolMessage } from '../protocol/core/message.ts';
import type { Bytes } from '../protocol/core/codec.ts';
import type { Endpoint, LinkHook } from './memory-cluster.ts';

/** mulberry32: small, fast, good enough to drive fault decisions reproducibly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Byzantine =
  /**
   * Flips a bit in every signature share it sends. (A lying aggregator is another threat: its
   * abort report can name honest signers; see the README's known gaps.)
   */
  | 'wrong-signature-share'
  /** Sends different DKG round-1 broadcasts to different peers. */
  | 'equivocate'
  /** Replaces its protocol payloads with random bytes. */
  | 'garbage'
  /** Replays, in each new session, a message it sent in an earlier one. */
  | 'replay'
  /** As aggregator, reports a failure naming the honest signers instead of the signature. */
  | 'false-accuser'
  /** Tampers with its DKLs23 OT-extension messages (the selective-abort probe against Δ). */
  | 'tamper-ot';

export interface FaultState {
  drop: number;
  duplicate: number;
  jitterMs: readonly [number, number];
  /** Members in different groups cannot talk; undefined = no partition. */
  partition?: readonly (readonly Endpoint[])[];
  slow: Map<Endpoint, number>;
  byzantine: Map<number, Byzantine>;
  /** Sees every message as it is sent (scenarios kill nodes at precise protocol moments). */
  onSend?: (from: Endpoint, message: ClusterMessage) => void;
}

export class FaultController {
  readonly state: FaultState = { drop: 0, duplicate: 0, jitterMs: [0, 0], slow: new Map(), byzantine: new Map() };
  private readonly random: () => number;
  private readonly remembered = new Map<number, Bytes>();
  /** Signs a forged reliable broadcast as its (byzantine) sender, so the forgery is a real equivocation. */
  resign: ((from: number, message: ProtocolMessage) => Uint8Array) | undefined;

  constructor(seed: number) {
    this.random = seededRandom(seed);
  }

  /** The hook to install on the cluster. */
  readonly hook: LinkHook = (from, to, message) => {
    const s = this.state;
    s.onSend?.(from, message);
    if (s.partition && !s.partition.some((g) => g.includes(from) && g.includes(to))) return [];
    if (from !== 'coordinator' && message.type === 'protocol') this.tamper(from, to, message);
    if (from !== 'coordinator' && to === 'coordinator' && message.type === 'sign_done' && s.byzantine.get(from) === 'false-accuser') {
      const lie = message as unknown as { type: string; code: string; reason: string; culprits: number[] };
      lie.type = 'failed';
      lie.code = 'invalid_signature_share';
      lie.reason = 'invalid_signature_share: (a lie)';
      lie.culprits = [1, 2, 3, 4, 5].filter((n) => n !== from);
      delete (lie as { signature?: unknown }).signature;
      delete (lie as { recoveryId?: unknown }).recoveryId;
    }
    if (s.drop > 0 && this.random() < s.drop) return [];
    const delay = () => {
      const [lo, hi] = s.jitterMs;
      const jitter = hi > 0 ? lo + this.random() * (hi - lo) : 0;
      return jitter + (s.slow.get(from) ?? 0) + (s.slow.get(to) ?? 0);
    };
    const copies = [delay()];
    if (s.duplicate > 0 && this.random() < s.duplicate) copies.push(delay());
    return copies;
  };

  private tamper(from: number, to: Endpoint, message: Extract<ClusterMessage, { type: 'protocol' }>): void {
    const behaviour = this.state.byzantine.get(from);
    if (!behaviour) return;
    const mutable = message as { message: Bytes };
    const m = decodeMessage(message.message);
    switch (behaviour) {
      case 'wrong-signature-share': {
        // Its own signature share: round 3 to the aggregator (coordinator model), round 2 in broadcast mode.
        const shareRound = m.protocol.startsWith('frost-sign-coord') ? 3 : m.protocol.startsWith('frost-sign/') ? 2 : -1;
        if (m.round === shareRound) mutable.message = encodeMessage({ ...m, payload: flipLast(m.payload) }) as Bytes;
        return;
      }
      case 'equivocate':
        // A different round-1 broadcast for every other recipient, each validly shaped.
        if (m.round === 1 && m.kind === 'broadcast' && m.protocol.startsWith('frost-dkg') && typeof to === 'number' && to % 2 === 0) {
          const forged = { ...m, payload: flipLast(m.payload) };
          mutable.message = encodeMessage(this.resign ? { ...forged, signature: this.resign(from, forged) } : forged) as Bytes;
        }
        return;
      case 'tamper-ot':
        if (m.protocol.startsWith('dkls23-sign') && m.round === 1 && m.kind === 'direct') mutable.message = encodeMessage({ ...m, payload: flipLast(m.payload) }) as Bytes;
        return;
      case 'garbage':
        mutable.message = encodeMessage({ ...m, payload: Uint8Array.from({ length: 64 }, () => Math.floor(this.random() * 256)) as Bytes }) as Bytes;
        return;
      case 'replay': {
        const old = this.remembered.get(from);
        if (!old) this.remembered.set(from, message.message);
        else mutable.message = old;
        return;
      }
    }
  }
}

function flipLast(payload: Uint8Array): Bytes {
  const out = Uint8Array.from(payload) as Bytes;
  out[out.length - 1]! ^= 1;
  return out;
}
