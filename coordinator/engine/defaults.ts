/** The engine's defaults, in one place: the config schema and the engine both read them. */
export const ENGINE_DEFAULTS = {
  /** One signing attempt's limit before a retry with another quorum. */
  attemptTimeoutMs: 5000,
  /**
   * A retry that must repeat a node that failed this request waits first: this long before the
   * first such repeat, doubling to `repeatRetryMaxMs` (each wait jittered down to half).
   */
  repeatRetryFirstMs: 100,
  repeatRetryMaxMs: 2000,
  /** A key generation's (and a refresh's) limit. */
  keygenTimeoutMs: 120_000,
  /** Ping period. */
  heartbeatMs: 1000,
  /** A node is online while it answered within this long. */
  livenessMs: 3000,
  /** Sessions in flight before new requests get `overloaded`. */
  maxSessions: 256,
  /** How long a node blamed by two accusers is left out of quorums. */
  suspectMs: 10 * 60_000,
} as const;
