/**
 * One symbol and one colour per derivation state, used everywhere a state is shown:
 * green finished, yellow working or cancelled, cyan moving bytes, red failed, grey nothing done.
 * Symbols differ as well as colours so the tree reads without colour too.
 */
import type { DrvStatus } from '../src/run/state.js';

export interface StatusStyle {
  readonly symbol: string;
  /** An Ink colour name; absent means the terminal's default, dimmed. */
  readonly color?: 'green' | 'yellow' | 'cyan' | 'red' | 'gray';
  readonly label: string;
}

export const STATUS_STYLE: Readonly<Record<DrvStatus, StatusStyle>> = {
  planned: { symbol: '○', label: 'queued' },
  'lock-wait': { symbol: '◌', color: 'yellow', label: 'waiting for lock' },
  building: { symbol: '●', color: 'yellow', label: 'building' },
  fetching: { symbol: '↓', color: 'cyan', label: 'fetching' },
  substituting: { symbol: '⇣', color: 'cyan', label: 'substituting' },
  built: { symbol: '✔', color: 'green', label: 'built' },
  substituted: { symbol: '⇓', color: 'green', label: 'substituted' },
  cached: { symbol: '≡', color: 'gray', label: 'cached' },
  failed: { symbol: '✖', color: 'red', label: 'failed' },
  skipped: { symbol: '⊘', color: 'gray', label: 'skipped' },
  // Not a failure of its own: the run stopped before or while it ran.
  cancelled: { symbol: '◍', color: 'yellow', label: 'cancelled' },
  // Nothing done, and nothing to do: what depended on it came from a cache.
  'not-needed': { symbol: '·', color: 'gray', label: 'not needed' },
};
