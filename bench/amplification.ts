/**
 * bench:amplification — precision and recall of coordinated-amplification detection
 * (apps/server/src/messaging/amplification.ts) on simulated campaigns mixed with organic sharing
 * (bench/amplification-sim.ts).
 *
 *   node --import tsx bench/amplification.ts [--sweep]
 *
 * Development seeds 1–5 are the only ones parameters were chosen on (`--sweep` prints the grid
 * that was searched, on them alone); test seeds 101–105 are measured with the chosen defaults
 * and never used to choose. Also the detection's time on the largest run, against reading the
 * shares (a linear pass that sorts them) as the baseline. One JSON object on stdout.
 */
import { type AmplificationParams, DEFAULT_AMPLIFICATION, detectNetworks } from '../apps/server/src/messaging/amplification.ts';
import { score, simulate } from './amplification-sim.ts';

const DEV = [1, 2, 3, 4, 5];
const TEST = [101, 102, 103, 104, 105];
const SIZE = { organicAccounts: 5000, organicClusters: 3000, campaigns: 8, hours: 24 };
const log = (m: string) => process.stderr.write(`[bench:amplification] ${m}\n`);
const round = (n: number, d = 3) => Number(n.toFixed(d));

function run(seeds: number[], params: AmplificationParams) {
  const per = seeds.map((seed) => {
    const sim = simulate({ seed, ...SIZE });
    const networks = detectNetworks(sim.shares, sim.createdAt, params);
    const flagged = new Set(networks.flatMap((n) => n.accounts.map((a) => a.accountId)));
    return { seed, ...score(sim, flagged), networks: networks.length };
  });
  const sum = (k: 'falsePositives' | 'flagged' | 'campaignsFound' | 'campaigns') => per.reduce((n, p) => n + p[k], 0);
  const tp = sum('flagged') - sum('falsePositives');
  const truth = per.reduce((n, p) => n + (p.recall > 0 ? Math.round((p.flagged - p.falsePositives) / p.recall) : 0), 0);
  return {
    precision: round(sum('flagged') === 0 ? 1 : tp / sum('flagged')),
    recall: round(truth === 0 ? 0 : tp / truth),
    campaignsFound: `${sum('campaignsFound')} of ${sum('campaigns')}`,
    falsePositiveAccounts: sum('falsePositives'),
    perSeed: per.map((p) => ({ seed: p.seed, precision: round(p.precision), recall: round(p.recall), campaigns: `${p.campaignsFound}/${p.campaigns}`, fp: p.falsePositives, shares: p.shares, organicAccounts: p.organicAccounts })),
  };
}

if (process.argv.includes('--sweep')) {
  const grid = [];
  for (const windowMs of [30_000, 60_000, 120_000, 300_000])
    for (const minClusters of [2, 3, 4])
      for (const minAccounts of [2, 3]) {
        const p = { ...DEFAULT_AMPLIFICATION, windowMs, minClusters, minAccounts };
        const r = run(DEV, p);
        grid.push({ windowMs, minClusters, minAccounts, precision: r.precision, recall: r.recall, campaigns: r.campaignsFound });
        log(`window ${windowMs / 1000} s, ≥${minClusters} clusters, ≥${minAccounts} accounts: precision ${r.precision}, recall ${r.recall}`);
      }
  process.stdout.write(`${JSON.stringify({ sweep: 'development seeds only', grid }, null, 2)}\n`);
} else {
  log('development seeds');
  const development = run(DEV, DEFAULT_AMPLIFICATION);
  log('test seeds');
  const testSet = run(TEST, DEFAULT_AMPLIFICATION);
  // Cost: the largest test run, detection against sorting the same shares (the least a reader does).
  const big = simulate({ seed: 999, organicAccounts: 50_000, organicClusters: 30_000, campaigns: 40, hours: 24 });
  let t = performance.now();
  for (let i = 0; i < 3; i++) [...big.shares].sort((a, b) => a.sender.localeCompare(b.sender) || a.at - b.at);
  const sortMs = (performance.now() - t) / 3;
  t = performance.now();
  for (let i = 0; i < 3; i++) detectNetworks(big.shares, big.createdAt, DEFAULT_AMPLIFICATION);
  const detectMs = (performance.now() - t) / 3;
  process.stdout.write(
    `${JSON.stringify(
      {
        params: DEFAULT_AMPLIFICATION,
        size: SIZE,
        development,
        test: testSet,
        cost: { shares: big.shares.length, detectMs: round(detectMs, 1), baselineSortMs: round(sortMs, 1), ratio: round(detectMs / sortMs, 2) },
      },
      null,
      2,
    )}\n`,
  );
}
