/**
 * Waiting on a condition, as tests must (never on wall-clock time alone): `ok` is polled until it
 * holds, and the wait fails naming what it waited for. A check that throws fails the wait at
 * once, unless `errors: 'retry'` (a server still starting): then it counts as not yet, and its
 * last error is named if the wait runs out.
 */
export interface UntilOptions {
  /** How long to wait before failing, in ms (10 s unless told). */
  readonly within?: number;
  /** How often to check, in ms (10 unless told; checks that spawn processes or call over HTTP want more). */
  readonly every?: number;
  /** What a check that throws means: the wait fails with its error (the default), or not yet. */
  readonly errors?: 'fail' | 'retry';
}

export async function until(what: string, ok: () => boolean | Promise<boolean>, { within = 10_000, every = 10, errors = 'fail' }: UntilOptions = {}): Promise<void> {
  const end = Date.now() + within;
  let lastError: unknown;
  for (;;) {
    try {
      if (await ok()) return;
    } catch (e) {
      if (errors === 'fail') throw e;
      lastError = e;
    }
    if (Date.now() > end) {
      const cause = lastError === undefined ? '' : ` (the check last failed with: ${lastError instanceof Error ? lastError.message : String(lastError)})`;
      throw new Error(`timed out after ${within} ms waiting for ${what}${cause}`);
    }
    await new Promise((r) => setTimeout(r, every));
  }
}
