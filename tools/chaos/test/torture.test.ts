import { DEFAULT_CHAOS, formatReport, passed, runChaos, type ChaosReport } from '../src/index';

/** The short torture run of `npm test`: fixed seeds, 8 s of faults each (the long one is `npm run chaos`). */
const DURATION_S = 8;

function faultCount(report: ChaosReport): number {
  return Object.values(report.faults).reduce((a, b) => a + b, 0);
}

describe('torture run on loopback (5 servers, k=3, two brokers)', () => {
  // Seed 11 starts with an overload (k servers killed at once); seed 16 goes through every single-server
  // fault. Which faults fit in the time depends on the machine's speed; the check holds whatever ran.
  test.each([11, 16])(
    'seed %i: every read is right, or warned that k or more servers are down',
    async (seed) => {
      const report = await runChaos({ ...DEFAULT_CHAOS, seed, durationMs: DURATION_S * 1000 });
      if (!passed(report)) throw new Error(formatReport(report, DURATION_S));
      expect(report.crashes).toEqual([]);
      expect(faultCount(report)).toBeGreaterThanOrEqual(2);
      expect(report.check.strict).toBeGreaterThan(100);
      expect(report.check.writes).toBeGreaterThan(100);
      // The final pass read every key through both brokers with every fault healed.
      expect(report.history.ops.filter((op) => /^b\d$/.test(op.client))).toHaveLength(
        2 * DEFAULT_CHAOS.keys,
      );
    },
    120_000,
  );
});

describe('torture run through two RESP gateways (5 servers, k=3)', () => {
  it('seed 16: every read through a gateway is right, or warned', async () => {
    const report = await runChaos({
      ...DEFAULT_CHAOS,
      seed: 16,
      via: 'gateway',
      durationMs: DURATION_S * 1000,
    });
    if (!passed(report)) throw new Error(formatReport(report, DURATION_S));
    expect(report.crashes).toEqual([]);
    expect(report.check.strict).toBeGreaterThan(100);
    expect(report.check.writes).toBeGreaterThan(100);
    expect(report.history.ops.filter((op) => /^b\d$/.test(op.client))).toHaveLength(
      2 * DEFAULT_CHAOS.keys,
    );
  }, 120_000);
});

describe('torture run over TLS (5 servers, k=3, two brokers)', () => {
  it('seed 5: every read is right, or warned, with every broker-server connection encrypted', async () => {
    const report = await runChaos({
      ...DEFAULT_CHAOS,
      seed: 5,
      tls: true,
      durationMs: DURATION_S * 1000,
    });
    if (!passed(report)) throw new Error(formatReport(report, DURATION_S));
    expect(report.crashes).toEqual([]);
    expect(report.check.strict).toBeGreaterThan(100);
    expect(report.check.writes).toBeGreaterThan(100);
  }, 120_000);
});
