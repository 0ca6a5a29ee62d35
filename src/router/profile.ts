/**
 * The router's run-time profile of one script: a summary of its earlier runs (from the
 * store's run records, keyed by the script's content hash, so an edited script starts
 * afresh and a moved one keeps what was learned).
 */
import type { RunRecord } from '../store/run-records.js';
import type { ProfileSummary } from './policy.js';

export function summarizeRuns(runs: RunRecord[]): ProfileSummary {
  const light = runs.filter((r) => r.tier === 'light').map((r) => r.wallMs);
  const full = runs.filter((r) => r.tier === 'full').map((r) => r.wallMs).sort((a, b) => a - b);
  return {
    lightRuns: light.length,
    lightMaxMs: light.length ? Math.max(...light) : undefined,
    fullRuns: full.length,
    fullMedianMs: full.length ? full[Math.floor(full.length / 2)] : undefined,
  };
}
