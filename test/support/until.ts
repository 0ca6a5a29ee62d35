/**
 * Waits for a condition, not for a clock: `check` is retried every 10 ms until it
 * passes. vi.waitFor's default gives up after 1 s, which a loaded CI machine (2 cores
 * next to a CPython build) overruns; here the only limit is just under the test's own
 * timeout (vitest.config.ts: 60 s), so a condition that never comes still fails with
 * its own assertion message rather than a bare timeout.
 */
import { vi } from 'vitest';

export const UNTIL_LIMIT_MS = 50_000;

export async function until<T>(check: () => T | Promise<T>): Promise<T> {
  const result = await vi.waitFor(check, { timeout: UNTIL_LIMIT_MS, interval: 10 });
  await effectsFlushed();
  return result;
}

/**
 * A frame on the screen does not mean its key handlers are listening yet: React runs
 * the effects that attach them in a later turn of the event loop (its scheduler posts
 * them with setImmediate). A key typed before then reaches the screen that was left.
 * Two turns let the scheduler run them: an order of events, not an amount of time.
 */
export async function effectsFlushed(): Promise<void> {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
}
