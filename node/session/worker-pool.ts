/**
 * Protocol worker threads: signing and presigning sessions run their state machines on a pool of
 * workers (worker-main.ts) so that a node uses more than one core, while the main thread keeps
 * everything with a side effect (claims, audit, stores, the network, reports). A session goes to
 * the worker with the fewest running sessions and stays there; its messages are handled in order.
 *
 * Pairwise OT retirements are shared with the workers through memory (retirement-board.ts): a
 * failed check on one worker is in force on every other at once, as on a single thread.
 */
import { Worker } from 'node:worker_threads';
import type { PartyId, SessionId } from '../../protocol/core/ids.ts';
import type { ProtocolMessage } from '../../protocol/core/message.ts';
import { zeroize } from '../../protocol/core/transcript.ts';
import type { Scheme, SigningKeyPlan } from '../../protocol/schemes/index.ts';
import { RetirementBoard } from './retirement-board.ts';
import type { SigningJob } from './signing-job.ts';

/** A session on the pool is named by a handle of the pool's own (a session id may run twice on one pool: the benchmark's parties). */
type Handle = number;

/** What a session on a worker runs: its party, the encoded share, the signing-key plan and the job. */
interface SessionInputs {
  readonly id: SessionId;
  readonly self: PartyId;
  readonly parties: readonly PartyId[];
  readonly scheme: Scheme;
  /** The encoded share: moved to the worker (the caller's bytes are zeroised), zeroised there once decoded. */
  readonly share: Uint8Array;
  readonly plan: SigningKeyPlan;
  readonly job: SigningJob;
  readonly context: Uint8Array;
}

export interface StartInWorker extends SessionInputs {
  readonly type: 'start';
  readonly handle: Handle;
  /** The key's retirement slot, for schemes with pairwise setups. */
  readonly slot?: number;
}

export type ToWorker = StartInWorker | { readonly type: 'receive'; readonly handle: Handle; readonly message: ProtocolMessage } | { readonly type: 'cancel'; readonly handle: Handle; readonly reason: string };

export type RemoteState =
  | { readonly status: 'running' }
  | { readonly status: 'done'; readonly output: unknown }
  | { readonly status: 'aborted'; readonly reason: string; readonly culprits: readonly PartyId[]; readonly message: string };

export type FromWorker =
  | { readonly type: 'step'; readonly handle: Handle; readonly out: ProtocolMessage[]; readonly state: RemoteState; readonly dropped?: string }
  /** The worker retired a pair (already in force on the board); the main thread makes it durable. */
  | { readonly type: 'retired'; readonly handle: Handle; readonly peer: PartyId }
  /** The session could not start or failed unexpectedly; it is gone from the worker. */
  | { readonly type: 'failed'; readonly handle: Handle; readonly error: string }
  | { readonly type: 'closed'; readonly handle: Handle };

export type RemoteStep = Extract<FromWorker, { type: 'step' }>;

/** What the session runner sees of a session on a worker. */
export interface RemoteSession {
  /** Every step the worker takes, in order, and its end. */
  onStep(handler: (step: RemoteStep) => void): void;
  onFailure(handler: (error: string) => void): void;
  receive(message: ProtocolMessage): void;
  cancel(reason: string): void;
}

export interface RemoteStart extends SessionInputs {
  readonly keyId: string;
  readonly epoch: number;
  /** Schemes with pairwise setups: the peers this node already retired for the key at `epoch`. */
  readonly retired?: readonly PartyId[];
  /** A pair the session's worker retired (the caller makes it durable and aborts other sessions with it). */
  readonly onRetired?: (peer: PartyId) => void;
}

interface Thread {
  readonly worker: Worker;
  readonly sessions: Map<Handle, Listener>;
}

interface Listener {
  step?: (step: RemoteStep) => void;
  failure?: (error: string) => void;
  /** Steps that came before the runner listened. */
  readonly queued: RemoteStep[];
  failed?: string;
  readonly retired?: (peer: PartyId) => void;
  readonly closed: () => void;
}

export class ProtocolWorkers {
  readonly size: number;
  readonly board = new RetirementBoard();
  /** Sessions started on the workers so far (metrics, tests). */
  started = 0;
  private handles = 0;
  private readonly threads: Thread[] = [];
  private readonly log: (event: string, fields: Record<string, unknown>) => void;
  private closing = false;

  constructor(size: number, log: (event: string, fields: Record<string, unknown>) => void) {
    this.size = size;
    this.log = log;
    for (let i = 0; i < size; i++) this.threads.push(this.spawn(i));
  }

  /** Starts a session on the least busy worker; undefined when no retirement slot is free (the caller refuses it). */
  start(s: RemoteStart): RemoteSession | undefined {
    const slot = s.retired ? this.board.hold(s.keyId, s.epoch, s.retired) : undefined;
    if (s.retired && slot === undefined) return undefined;
    const thread = this.threads.reduce((a, b) => (b.sessions.size < a.sessions.size ? b : a));
    const handle = ++this.handles;
    const listener: Listener = {
      queued: [],
      ...(s.onRetired ? { retired: s.onRetired } : {}),
      closed: () => {
        thread.sessions.delete(handle);
        if (slot !== undefined) this.board.release(slot);
      },
    };
    thread.sessions.set(handle, listener);
    this.started++;
    // Moved, not copied: the main thread keeps no copy of the share or the presignature.
    const share = moveOut(s.share);
    const job = s.job.kind === 'sign-presigned' ? { ...s.job, presignature: moveOut(s.job.presignature) } : s.job;
    const message: StartInWorker = { type: 'start', handle, id: s.id, self: s.self, parties: s.parties, scheme: s.scheme, share, plan: s.plan, job, context: s.context, ...(slot !== undefined ? { slot } : {}) };
    thread.worker.postMessage(message, [share.buffer, ...(job.kind === 'sign-presigned' ? [job.presignature.buffer] : [])]);
    const post = (m: ToWorker) => thread.worker.postMessage(m);
    return {
      onStep(handler) {
        listener.step = handler;
        for (const step of listener.queued.splice(0)) handler(step);
      },
      onFailure(handler) {
        listener.failure = handler;
        if (listener.failed !== undefined) handler(listener.failed);
      },
      receive: (m) => post({ type: 'receive', handle, message: m }),
      cancel: (reason) => post({ type: 'cancel', handle, reason }),
    };
  }

  /** Sessions running on each worker (tests, metrics). */
  get load(): number[] {
    return this.threads.map((t) => t.sessions.size);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.threads.map((t) => t.worker.terminate()));
  }

  private spawn(index: number): Thread {
    const thread: Thread = { worker: new Worker(new URL('./worker-main.ts', import.meta.url), { workerData: { board: this.board.buffer }, name: `protocol-${index}` }), sessions: new Map() };
    thread.worker.on('message', (m: FromWorker) => {
      const l = thread.sessions.get(m.handle);
      if (!l) return;
      switch (m.type) {
        case 'step':
          if (l.step) l.step(m);
          else l.queued.push(m);
          return;
        case 'retired':
          return l.retired?.(m.peer);
        case 'failed':
          l.failed = m.error;
          return l.failure?.(m.error);
        case 'closed':
          return l.closed();
      }
    });
    thread.worker.on('error', (e) => this.log('protocol_worker_failed', { worker: index, error: e.message }));
    thread.worker.on('exit', () => {
      if (this.closing) return;
      // Its sessions are lost with it (their shares with them); a fresh worker takes new ones.
      for (const [, l] of thread.sessions) {
        l.failed = 'protocol worker exited';
        l.failure?.(l.failed);
        l.closed();
      }
      this.threads[index] = this.spawn(index);
    });
    return thread;
  }
}

/** A copy of `bytes` in a buffer of its own (to move to a worker); `bytes` is zeroised. */
function moveOut(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  const own = new Uint8Array(bytes.length);
  own.set(bytes);
  zeroize(bytes);
  return own;
}
