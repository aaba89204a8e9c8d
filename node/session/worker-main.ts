/**
 * A protocol worker thread: runs the state machines of signing and presigning sessions the main
 * thread hands it (worker-pool.ts), one message at a time per session, in the order they come.
 * It holds a session's share only while the session runs: the share bytes arrive moved (not
 * copied), are zeroised once decoded, and the decoded share is wiped however the session ends.
 * It does no I/O: everything it produces goes back to the main thread, which routes, stores and
 * reports.
 */
import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { DecodeError, ProtocolAbort, SessionTerminated } from '../../protocol/core/errors.ts';
import type { PartyId } from '../../protocol/core/ids.ts';
import type { ProtocolMessage } from '../../protocol/core/message.ts';
import { Party } from '../../protocol/core/party.ts';
import { zeroize } from '../../protocol/core/transcript.ts';
import { schemeOf } from '../../protocol/schemes/index.ts';
import { RetirementView } from './retirement-board.ts';
import { decodeSigningShare, startJob } from './signing-job.ts';
import type { FromWorker, RemoteState, StartInWorker, ToWorker } from './worker-pool.ts';

interface Running {
  readonly party: Party<unknown>;
  readonly slot: number | undefined;
  readonly compromisedBy: ((abort: ProtocolAbort) => readonly PartyId[]) | undefined;
  readonly wipe: () => void;
}

const port = parentPort!;
const board = new RetirementView((workerData as { board: SharedArrayBuffer }).board);
const sessions = new Map<number, Running>();
const rng = (n: number) => new Uint8Array(randomBytes(n));
// Signing and presigning have no reliable-broadcast round: a worker never signs with the node's identity.
const noAuth = {
  sign: (): never => {
    throw new Error('protocol workers hold no identity key');
  },
  verify: (): never => {
    throw new Error('protocol workers hold no identity key');
  },
};

const post = (message: FromWorker) => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'start':
      return start(message);
    case 'receive': {
      const s = sessions.get(message.handle);
      if (s) step(message.handle, s, () => s.party.receive(message.message));
      return;
    }
    case 'cancel': {
      const s = sessions.get(message.handle);
      if (s) {
        s.party.cancel(message.reason);
        close(message.handle, s);
      }
      return;
    }
  }
});

function start(m: StartInWorker): void {
  let running: Running;
  try {
    running = open(m);
  } catch (e) {
    if (m.job.kind === 'sign-presigned') zeroize(m.job.presignature);
    post({ type: 'failed', handle: m.handle, error: e instanceof Error ? e.message : String(e) });
    post({ type: 'closed', handle: m.handle });
    return;
  }
  sessions.set(m.handle, running);
  step(m.handle, running, () => running.party.begin());
}

/** Decodes the share for the plan's signing key and builds the session's state machine. */
function open(m: StartInWorker): Running {
  const scheme = schemeOf(m.scheme);
  const decoded = decodeSigningShare(scheme, m.share, m.plan);
  const wipe = () => {
    decoded.wipe();
    if (m.job.kind === 'sign-presigned') zeroize(m.job.presignature);
  };
  try {
    const slot = m.slot;
    const guard =
      slot === undefined
        ? undefined
        : {
            usable: (peer: PartyId) => board.usable(slot, peer),
            retire: (peer: PartyId) => retire(m.handle, slot, peer),
            // Sessions of this key on other workers check its pairs one at a time with this one.
            exclusive: <T>(run: () => T): T => board.exclusive(slot, run),
          };
    const { protocol, start } = startJob(scheme.adapter, decoded.signingShare, m.job, m.context, guard);
    const party = new Party<unknown>({ protocol, session: m.id, self: m.self, parties: m.parties, rng, auth: noAuth }, start);
    const pairwise = scheme.adapter.pairwiseSetup;
    return { party, slot, compromisedBy: pairwise && ((abort) => pairwise.compromisedBy(abort)), wipe };
  } catch (e) {
    wipe();
    throw e;
  }
}

/** A retirement in force for every thread at once (the board), then told to the main thread, which makes it durable. */
function retire(handle: number, slot: number, peer: PartyId): void {
  if (board.retire(slot, peer)) post({ type: 'retired', handle, peer });
}

function step(handle: number, s: Running, f: () => ProtocolMessage[]): void {
  let out: ProtocolMessage[] = [];
  let dropped: string | undefined;
  let thrown: ProtocolAbort | undefined;
  try {
    out = f();
  } catch (e) {
    if (e instanceof ProtocolAbort) thrown = e;
    else if (e instanceof DecodeError || e instanceof SessionTerminated) dropped = e.message;
    else {
      post({ type: 'failed', handle, error: e instanceof Error ? e.message : String(e) });
      return close(handle, s);
    }
  }
  const state = s.party.state;
  const abort = thrown ?? (state.status === 'aborted' ? state.abort : undefined);
  let reply: RemoteState;
  if (abort) {
    // Pairs the abort proves compromised are retired before anything else runs anywhere.
    if (s.slot !== undefined) for (const peer of s.compromisedBy?.(abort) ?? []) retire(handle, s.slot, peer);
    reply = { status: 'aborted', reason: abort.reason, culprits: abort.culprits, message: abort.message };
  } else reply = state.status === 'done' ? { status: 'done', output: state.output } : { status: 'running' };
  post({ type: 'step', handle, out, state: reply, ...(dropped ? { dropped } : {}) });
  if (reply.status !== 'running') close(handle, s);
}

function close(handle: number, s: Running): void {
  s.wipe();
  sessions.delete(handle);
  post({ type: 'closed', handle });
}
