/**
 * Protocol messages that arrive before their session starts (a peer may legitimately be a round
 * ahead), held within byte budgets per session and per sending peer across all sessions, so one
 * member cannot make a node hold more than this for it. The largest honest early message is a
 * DKLs23 round-1 KOS matrix (~10 KiB per peer) or a reshare deal; these leave a wide margin.
 */
import { DecodeError } from '../../protocol/core/errors.ts';
import type { PartyId, SessionId } from '../../protocol/core/ids.ts';
import type { ProtocolMessage } from '../../protocol/core/message.ts';

export interface EarlyMessage {
  readonly from: PartyId;
  readonly keyId: string;
  readonly message: ProtocolMessage;
  readonly bytes: number;
}

const MAX_MESSAGES_PER_SESSION = 4096;
const MAX_SESSIONS = 256;
const MAX_BYTES_PER_SESSION = 1024 * 1024;
const MAX_BYTES_PER_PEER = 8 * 1024 * 1024;

export class EarlyMessages {
  /** Per session, its messages and their total size. */
  private readonly queues = new Map<SessionId, { readonly messages: EarlyMessage[]; bytes: number }>();
  private readonly bytesByPeer = new Map<PartyId, number>();

  /** Holds `m` for its session; throws `too_large` when a budget would be exceeded. */
  hold(m: EarlyMessage): void {
    const session = m.message.session;
    const fromPeer = this.bytesByPeer.get(m.from) ?? 0;
    if (fromPeer + m.bytes > MAX_BYTES_PER_PEER) throw new DecodeError('too_large', `node ${m.from} has ${fromPeer} bytes of early messages buffered here`);
    let queue = this.queues.get(session);
    if (!queue) {
      if (this.queues.size >= MAX_SESSIONS) this.take(this.queues.keys().next().value!);
      queue = { messages: [], bytes: 0 };
      this.queues.set(session, queue);
    }
    if (queue.messages.length >= MAX_MESSAGES_PER_SESSION || queue.bytes + m.bytes > MAX_BYTES_PER_SESSION) {
      throw new DecodeError('too_large', `session ${session} has no room for more early messages`);
    }
    queue.messages.push(m);
    queue.bytes += m.bytes;
    this.bytesByPeer.set(m.from, fromPeer + m.bytes);
  }

  /** Removes and returns a session's messages, releasing their bytes from each sender's budget. */
  take(session: SessionId): EarlyMessage[] {
    const messages = this.queues.get(session)?.messages ?? [];
    this.queues.delete(session);
    for (const m of messages) {
      const left = (this.bytesByPeer.get(m.from) ?? 0) - m.bytes;
      if (left > 0) this.bytesByPeer.set(m.from, left);
      else this.bytesByPeer.delete(m.from);
    }
    return messages;
  }

  bytesFrom(peer: PartyId): number {
    return this.bytesByPeer.get(peer) ?? 0;
  }
}
