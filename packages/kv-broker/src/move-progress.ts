import { SingleBar } from 'cli-progress';
import type { RebalanceProgress } from '@triekv/broker';

/**
 * The progress bar of ADD SERVER, REMOVE SERVER and REBALANCE on a terminal (stderr): one bar per
 * phase (copying keys to their new replicas, then removing copies no longer needed). Nothing when
 * stderr is not a terminal.
 */
export class MoveBar {
  private bar: SingleBar | undefined;
  private phase: string | undefined;

  readonly update = (p: RebalanceProgress): void => {
    if (process.stderr.isTTY !== true) return;
    if (this.phase !== p.phase) {
      this.stop();
      this.phase = p.phase;
      this.bar = new SingleBar({
        format: `${p.change}: ${p.phase} |{bar}| {percentage}% | {value} of ~{total} entries | {copied} copied, {removed} removed`,
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
      });
      this.bar.start(Math.max(p.total, p.scanned, 1), 0, { copied: 0, removed: 0 });
    }
    if (p.scanned > (this.bar?.getTotal() ?? 0)) this.bar?.setTotal(p.scanned);
    this.bar?.update(p.scanned, { copied: p.copied, removed: p.removed });
  };

  /** Ends the bar (after each command). */
  stop(): void {
    this.bar?.stop();
    this.bar = undefined;
    this.phase = undefined;
  }
}
