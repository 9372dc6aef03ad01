import { execFileSync } from 'node:child_process';
import { DEFAULT_CHAOS, formatReport, passed, runChaos } from '../src/index';

/** Whether this process may make network namespaces (root with CAP_SYS_ADMIN, `ip` installed). */
function netnsAvailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root';
  const probe = `tkv-jest-${process.pid}`;
  try {
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'pipe' });
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return `ip netns add failed: ${(error as Error).message.split('\n')[0]}`;
  }
}

const unavailable = netnsAvailable();
if (unavailable !== undefined) console.log(`multi-host torture run skipped: ${unavailable}`);

describe('torture run across network namespaces (one host per server)', () => {
  (unavailable === undefined ? test : test.skip)(
    'partitions by link down, kills and pauses: every read is right, or warned',
    async () => {
      const report = await runChaos({
        ...DEFAULT_CHAOS,
        seed: 5,
        durationMs: 8_000,
        network: 'netns',
        firstFault: 'partition',
      });
      if (!passed(report)) throw new Error(formatReport(report, 8));
      expect(report.network).toBe('netns');
      expect(report.faults.partition).toBeGreaterThanOrEqual(1);
      expect(Object.values(report.faults).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2);
      expect(report.check.strict).toBeGreaterThan(100);
    },
    120_000,
  );
});
