/**
 * Pairwise OT retirements (pair-retirement.ts) shared with the protocol worker threads through
 * memory, so that a retirement is in force for every thread the moment it is made. Sessions of
 * one key run on several workers at once; a retirement posted as a message would leave a window
 * in which another worker's session uses the pair a failed check has just proved compromised.
 *
 * Each key and epoch with sessions on workers holds a slot: a lock, then up to PEERS_PER_SLOT − 1
 * retired peer ids, written with compare-and-swap into the first free entry (0 = free; party ids
 * start at 1). The lock makes one session's checks against the key's pairs a single step across
 * threads (OtPairGuard.exclusive). The main thread assigns slots and recycles only slots no
 * running session holds.
 */
import type { PartyId } from '../../protocol/core/ids.ts';

const SLOTS = 1024;
/** Cells per slot: the lock, then more retired peers than any committee has members. */
const PEERS_PER_SLOT = 64;
/** How long a session waits for another's checks of the same key before it gives up (fails closed). */
const LOCK_WAIT_MS = 30_000;

/** What a worker thread does with the board: check and retire, never assign. */
export class RetirementView {
  private readonly cells: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Int32Array(buffer);
  }

  usable(slot: number, peer: PartyId): boolean {
    const base = slot * PEERS_PER_SLOT;
    for (let i = 1; i < PEERS_PER_SLOT; i++) {
      const cell = Atomics.load(this.cells, base + i);
      if (cell === 0) return true;
      if (cell === peer) return false;
    }
    return true;
  }

  /** Retires `peer` in `slot`; false when it already was. */
  retire(slot: number, peer: PartyId): boolean {
    const base = slot * PEERS_PER_SLOT;
    for (let i = 1; i < PEERS_PER_SLOT; i++) {
      const was = Atomics.compareExchange(this.cells, base + i, 0, peer);
      if (was === 0) return true;
      if (was === peer) return false;
    }
    // A full slot cannot happen with committees below PEERS_PER_SLOT; fail closed all the same.
    throw new Error(`retirement slot ${slot} is full`);
  }

  /** Runs `run` holding the slot's lock: no other thread's `exclusive` on the slot runs meanwhile. */
  exclusive<T>(slot: number, run: () => T): T {
    const lock = slot * PEERS_PER_SLOT;
    const until = Date.now() + LOCK_WAIT_MS;
    while (Atomics.compareExchange(this.cells, lock, 0, 1) !== 0) {
      if (Date.now() > until) throw new Error(`the pairwise checks of retirement slot ${slot} stayed locked for ${LOCK_WAIT_MS} ms`);
      Atomics.wait(this.cells, lock, 1, 100);
    }
    try {
      return run();
    } finally {
      Atomics.store(this.cells, lock, 0);
      Atomics.notify(this.cells, lock, 1);
    }
  }

  protected unlock(slot: number): void {
    Atomics.store(this.cells, slot * PEERS_PER_SLOT, 0);
  }

  protected clear(slot: number): void {
    const base = slot * PEERS_PER_SLOT;
    for (let i = 0; i < PEERS_PER_SLOT; i++) Atomics.store(this.cells, base + i, 0);
  }
}

/** The main thread's board: slots per key and epoch, held while sessions on workers use them. */
export class RetirementBoard extends RetirementView {
  readonly buffer: SharedArrayBuffer;
  /** `keyId/epoch` → slot and the sessions holding it; unheld slots stay mapped until reused. */
  private readonly slots = new Map<string, { slot: number; held: number }>();
  private readonly free: number[] = Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i);

  constructor() {
    const buffer = new SharedArrayBuffer(SLOTS * PEERS_PER_SLOT * Int32Array.BYTES_PER_ELEMENT);
    super(buffer);
    this.buffer = buffer;
  }

  /**
   * The slot of `keyId` at `epoch`, holding at least `retired`, held until `release`; undefined
   * when every slot is held (the session is then refused: see signing-share.ts machineFor).
   */
  hold(keyId: string, epoch: number, retired: Iterable<PartyId>): number | undefined {
    const at = `${keyId}/${epoch}`;
    let entry = this.slots.get(at);
    // No running session holds it, so no thread can be inside its lock: one that died there
    // (a worker terminated mid-check) must not leave the key locked.
    if (entry?.held === 0) this.unlock(entry.slot);
    if (!entry) {
      const slot = this.free.pop() ?? this.reclaim();
      if (slot === undefined) return undefined;
      this.clear(slot);
      this.slots.set(at, (entry = { slot, held: 0 }));
    }
    for (const peer of retired) this.retire(entry.slot, peer);
    entry.held++;
    return entry.slot;
  }

  release(slot: number): void {
    for (const entry of this.slots.values()) if (entry.slot === slot && entry.held > 0) return void entry.held--;
  }

  /** Mirrors a retirement the main thread made (pair-retirement.ts) into the key's slot, if it has one. */
  retireKey(keyId: string, epoch: number, peer: PartyId): void {
    const entry = this.slots.get(`${keyId}/${epoch}`);
    if (entry) this.retire(entry.slot, peer);
  }

  /** An unheld slot, taken from its key (the main thread's own record of retirements stays). */
  private reclaim(): number | undefined {
    for (const [at, entry] of this.slots) {
      if (entry.held === 0) {
        this.slots.delete(at);
        return entry.slot;
      }
    }
    return undefined;
  }
}
