/** How far one download has come, as the fetcher reports it. */
export interface FetchProgress {
  bytes: number;
  /** From Content-Length (or the file's size); absent when the source did not say. */
  total?: number;
  /** Average since this attempt began. */
  bytesPerSecond: number;
  /** The mirror, as `describeMirror` names it. */
  source: string;
}

// A chunk arrives every few kilobytes; the TUI redraws at most this often anyway, and a
// JSON log with one line per chunk would be larger than the file being fetched.
const minIntervalMs = 100;

/**
 * Counts bytes of one attempt and passes them on at most ten times a second, plus
 * once at the end so that the last report shows the whole file.
 */
export class ProgressMeter {
  private bytes = 0;
  private readonly started = performance.now();
  private lastReport = -Infinity;

  constructor(
    private readonly source: string,
    private readonly onProgress: ((p: FetchProgress) => void) | undefined,
    private total?: number,
  ) {}

  setTotal(total: number | undefined): void {
    this.total = total;
  }

  /** Sets the byte count (for sources watched by size) and reports if it is time to. */
  at(bytes: number): void {
    this.bytes = bytes;
    const now = performance.now();
    if (now - this.lastReport >= minIntervalMs) this.report(now);
  }

  add(n: number): void {
    this.at(this.bytes + n);
  }

  get count(): number {
    return this.bytes;
  }

  finish(): void {
    this.report(performance.now());
  }

  private report(now: number): void {
    this.lastReport = now;
    if (!this.onProgress) return;
    const seconds = (now - this.started) / 1000;
    this.onProgress({
      bytes: this.bytes,
      ...(this.total === undefined ? {} : { total: this.total }),
      bytesPerSecond: seconds > 0 ? Math.round(this.bytes / seconds) : 0,
      source: this.source,
    });
  }
}
