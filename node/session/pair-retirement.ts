/**
 * Retirement of pairwise OT setups (DKLs23): per key and epoch, the peers whose setup with this
 * node must never be used again. A retirement is in force in memory the moment a check fails
 * (synchronously: no other session can evaluate a check with that peer afterwards), the key's
 * running sessions with the peer are aborted, and the burn is written to the vault in the
 * background with retries; until it is on disk, the key's pairwise sessions are refused (fail closed).
 */
import type { PartyId } from '../../protocol/core/ids.ts';
import type { OtPairGuard } from '../../protocol/dkls23/sign.ts';
import type { ShareVault } from '../store/types.ts';

export interface PairRetirementOptions {
  readonly vault: Pick<ShareVault, 'burnPair'>;
  /** Aborts the running sessions of `keyId` with `peer`. */
  readonly abortWith: (keyId: string, peer: PartyId) => void;
  readonly log: (event: string, fields: Record<string, unknown>) => void;
  /** Told of every retirement the moment it is made (the protocol workers' shared board). */
  readonly mirror?: (keyId: string, epoch: number, peer: PartyId) => void;
}

export class PairRetirement {
  private readonly opts: PairRetirementOptions;
  /** Per `keyId/epoch`, the retired peers: loaded from the vault's burns, tripped in memory by failed checks. */
  private readonly retired = new Map<string, Set<PartyId>>();
  /** Burns not yet on disk, per key. */
  private readonly burnsInFlight = new Map<string, number>();

  constructor(opts: PairRetirementOptions) {
    this.opts = opts;
  }

  /**
   * Why a session of `keyId` at `epoch` with `signers` may not run, or undefined when it may.
   * `burned` are the burns the vault holds for the key; they join the in-memory retirements.
   */
  refusal(keyId: string, epoch: number, signers: readonly PartyId[], burned: readonly PartyId[]): { reason: string; culprits: readonly PartyId[] } | undefined {
    const retired = this.retiredAt(keyId, epoch);
    for (const p of burned) retired.add(p);
    const out = signers.filter((p) => retired.has(p));
    if (out.length) return { reason: `pairwise setup with node(s) ${out.join(', ')} is burned by a failed consistency check; refresh key ${keyId}`, culprits: out };
    if (this.burnsInFlight.has(keyId)) return { reason: `a burn of key ${keyId}'s pairwise setup is not yet on disk; its sessions are refused until it is`, culprits: [] };
    return undefined;
  }

  /** The peers retired for `keyId` at `epoch` so far (burns on disk join once `refusal` has seen them). */
  retiredPeers(keyId: string, epoch: number): PartyId[] {
    return [...this.retiredAt(keyId, epoch)];
  }

  /** The guard every DKLs23 session of one key and epoch shares (see OtPairGuard). */
  guard(keyId: string, epoch: number): OtPairGuard {
    const retired = this.retiredAt(keyId, epoch);
    return { usable: (peer) => !retired.has(peer), retire: (peer) => this.retire(keyId, epoch, peer) };
  }

  /** Retires this node's pairwise setup with `peer` for the key at `epoch`, at once and for good. */
  retire(keyId: string, epoch: number, peer: PartyId): void {
    const retired = this.retiredAt(keyId, epoch);
    if (retired.has(peer)) return;
    retired.add(peer);
    this.opts.mirror?.(keyId, epoch, peer);
    this.burnsInFlight.set(keyId, (this.burnsInFlight.get(keyId) ?? 0) + 1);
    this.opts.log('pair_retired', { keyId, epoch, peer });
    queueMicrotask(() => this.opts.abortWith(keyId, peer));
    void this.persist(keyId, epoch, peer);
  }

  private retiredAt(keyId: string, epoch: number): Set<PartyId> {
    const at = `${keyId}/${epoch}`;
    let set = this.retired.get(at);
    if (!set) {
      // A new epoch brings fresh pairwise setups: the key's older retirements are moot.
      for (const k of this.retired.keys()) if (k.startsWith(`${keyId}/`)) this.retired.delete(k);
      set = new Set();
      this.retired.set(at, set);
    }
    return set;
  }

  private async persist(keyId: string, epoch: number, peer: PartyId): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.opts.vault.burnPair(keyId, peer, epoch);
        break;
      } catch (e) {
        this.opts.log('burn_write_failed', { keyId, peer, attempt, error: e instanceof Error ? e.message : String(e) });
        await new Promise((r) => setTimeout(r, Math.min(5000, 50 * 2 ** attempt)).unref());
      }
    }
    const left = (this.burnsInFlight.get(keyId) ?? 1) - 1;
    if (left > 0) this.burnsInFlight.set(keyId, left);
    else this.burnsInFlight.delete(keyId);
    this.opts.log('pair_burned', { keyId, epoch, peer });
  }
}
