/** Combinators over protocol transitions: change an output, or run a second protocol after a first. */
import type { Round, Transition } from './party.ts';

/** Maps a protocol's output without touching its rounds. */
export function mapOutput<A, B>(t: Transition<A>, f: (a: A) => B): Transition<B> {
  if ('output' in t) return { send: t.send, output: f(t.output) };
  return { send: t.send, next: mapRound(t.next, (r) => mapOutput(r, f)) };
}

/**
 * Runs `then` on the first protocol's output as if its rounds continued the first protocol's
 * (their round numbers must follow on). A final transition sends nothing, so the second
 * protocol's first messages go out from the round that produced the output.
 */
export function andThen<A, B>(t: Transition<A>, then: (a: A) => Transition<B>): Transition<B> {
  if ('output' in t) return then(t.output);
  return { send: t.send, next: mapRound(t.next, (r) => andThen(r, then)) };
}

function mapRound<A, B>(r: Round<A>, f: (t: Transition<A>) => Transition<B>): Round<B> {
  return { ...r, finish: () => f(r.finish()) };
}
