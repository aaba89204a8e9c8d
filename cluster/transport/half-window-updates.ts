/**
 * yamux streams that grant their peer more receive window once half of it is used, as hashicorp's
 * yamux and rust-yamux do, instead of after every data frame. `@chainsafe/libp2p-yamux` 8 sends a
 * WINDOW_UPDATE whenever any of the window is used, so each message the cluster sends is answered
 * by a frame of its own: another Noise encryption, socket write and decryption, for a peer that
 * still had almost all its 256 KiB of credit. With the threshold a stream's small messages cost
 * one frame each, and a stream carrying a large one still gets its credit back while more than
 * half the window remains, so the sender never waits on it.
 *
 * The library has no setting for this, so the wrapper replaces each stream's `sendWindowUpdate`
 * as the muxer creates it. It reads the stream's own fields; if a version of the library no
 * longer has them, it refuses to start rather than guess (the transport tests then fail).
 */
import type { MessageStream, StreamMuxer, StreamMuxerFactory } from '@libp2p/interface';

/** What the wrapper uses of a yamux stream (fields the library does not export as API). */
interface YamuxStreamWindow {
  state: unknown;
  recvWindow: number;
  recvWindowCapacity: number;
  sendWindowUpdate(): void;
}

interface YamuxMuxerStreams {
  _newStream(...args: unknown[]): YamuxStreamWindow;
}

/**
 * `StreamState.Established` of `@chainsafe/libp2p-yamux` 8 (not exported). Only an established
 * stream's update is held back: opening (SYN/ACK) updates carry flags and must go. A library
 * version that numbers its states otherwise fails the transport tests: one that no update is
 * held back in, one that a large transfer stalls in.
 */
const ESTABLISHED = 3;

/** `make` (e.g. `yamux()`), whose muxers' streams send window updates at half the window. */
export function halfWindowUpdates<C>(make: (components: C) => StreamMuxerFactory): (components: C) => StreamMuxerFactory {
  return (components) => {
    const factory = make(components);
    const create = factory.createStreamMuxer.bind(factory);
    factory.createStreamMuxer = (connection: MessageStream): StreamMuxer => withHalfWindowUpdates(create(connection));
    return factory;
  };
}

function withHalfWindowUpdates<M extends StreamMuxer>(muxer: M): M {
  const internals = muxer as unknown as Partial<YamuxMuxerStreams>;
  const newStream = internals._newStream;
  if (typeof newStream !== 'function') throw new Error('@chainsafe/libp2p-yamux no longer creates streams with _newStream: half-window-updates.ts needs updating');
  internals._newStream = function (this: unknown, ...args: unknown[]): YamuxStreamWindow {
    const stream = newStream.apply(this, args);
    if (typeof stream.recvWindow !== 'number' || typeof stream.recvWindowCapacity !== 'number' || typeof stream.sendWindowUpdate !== 'function') {
      throw new Error('@chainsafe/libp2p-yamux streams no longer keep recvWindow, recvWindowCapacity and sendWindowUpdate: half-window-updates.ts needs updating');
    }
    const update = stream.sendWindowUpdate;
    stream.sendWindowUpdate = function (this: YamuxStreamWindow) {
      if (this.state === ESTABLISHED && this.recvWindowCapacity * 2 > this.recvWindow) return;
      update.call(this);
    };
    return stream;
  };
  return muxer;
}
