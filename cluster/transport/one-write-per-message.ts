/**
 * A connection encrypter (Noise) whose every encrypted message reaches the TCP socket as one
 * write. Noise hands the connection each message as two buffers, its 2-byte length and the
 * ciphertext, and libp2p's TCP connection writes each buffer with its own `socket.write`: with
 * Nagle off that is two system calls and two loopback segments per message, the first of them two
 * bytes long. Joining them before the socket sees them halves the channel's writes; what goes on
 * the wire is byte for byte the same.
 */
import type { ConnectionEncrypter, MessageStream } from '@libp2p/interface';

type SendData = Parameters<MessageStream['send']>[0];

/** `make` (e.g. `noise()`), with its connections' messages joined into one buffer each. */
export function oneWritePerMessage<C>(make: (components: C) => ConnectionEncrypter): (components: C) => ConnectionEncrypter {
  return (components) => {
    const inner = make(components);
    return {
      protocol: inner.protocol,
      secureInbound: (connection, options) => inner.secureInbound(joiningSends(connection), options),
      secureOutbound: (connection, options) => inner.secureOutbound(joiningSends(connection), options),
    };
  };
}

/**
 * `stream`, but `send` joins a list of buffers into one first. Everything else is the stream's
 * own; its class's methods are bound to the stream itself (they use private fields, which a proxy
 * as `this` would not have).
 */
export function joiningSends<S extends MessageStream>(stream: S): S {
  const send = (data: SendData): boolean => stream.send(data instanceof Uint8Array ? data : data.subarray());
  const bound = new Map<PropertyKey, unknown>();
  return new Proxy(stream, {
    get(target, key) {
      if (key === 'send') return send;
      const value: unknown = Reflect.get(target, key, target);
      // Own properties (the logger, a callable with properties of its own) pass as they are.
      if (typeof value !== 'function' || Object.hasOwn(target, key)) return value;
      // Class methods do not change: bind each once.
      let method = bound.get(key);
      if (method === undefined) bound.set(key, (method = (value as (...a: unknown[]) => unknown).bind(target)));
      return method;
    },
    set: (target, key, value) => Reflect.set(target, key, value, target),
  });
}
