/**
 * Simulated sharing for measuring coordinated-amplification detection (apps/server/src/messaging/
 * amplification.ts): a day of organic sharing with coordinated campaigns mixed in, seeded, with
 * the truth (which accounts belong to a campaign) alongside.
 *
 * Organic: people share pictures whose popularity is heavy-tailed (Zipf), at bursty times (a few
 * sessions a day, shares within a session minutes apart), into a few of their own chats; a tenth
 * of them are new accounts. Viral pictures therefore gather many shares within minutes of each
 * other, which is what makes one coincidence worthless as evidence.
 *
 * Campaigns: a group of accounts (5–30; most new, some scripted) pushes several pictures of its
 * own (3–8): for each, its members share it within a burst (jitter up to 20 s for a crude
 * campaign, up to 4 minutes for a careful one), each into several chats. Scripted members share
 * at near-regular intervals. Careful campaigns also use older accounts and share only part of
 * their pictures each, which is what keeps recall below 100%.
 */
import type { ShareRecord } from '../apps/server/src/messaging/amplification.ts';

export interface SimOptions {
  seed: number;
  organicAccounts: number;
  organicClusters: number;
  campaigns: number;
  hours: number;
}

export interface SimResult {
  shares: ShareRecord[];
  createdAt: Map<string, number>;
  /** Account → campaign number, for campaign members only. */
  campaignOf: Map<string, number>;
  now: number;
}

/** mulberry32: small, fast, good enough for simulation. */
export function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
const MIN = 60_000;

export function simulate(o: SimOptions): SimResult {
  const r = rng(o.seed);
  const now = 1_800_000_000_000;
  const t0 = now - o.hours * 3_600_000;
  const shares: ShareRecord[] = [];
  const createdAt = new Map<string, number>();
  const campaignOf = new Map<string, number>();
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(r() * xs.length)]!;
  const exp = (mean: number) => -Math.log(1 - r()) * mean;

  // Zipf popularity over organic pictures: cumulative weights for sampling.
  const weights: number[] = [];
  let total = 0;
  for (let i = 1; i <= o.organicClusters; i++) {
    total += 1 / i ** 1.1;
    weights.push(total);
  }
  const popularCluster = () => {
    const x = r() * total;
    let lo = 0;
    let hi = weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (weights[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  };
  // Viral pictures burst: each has a peak time, and most of its shares fall within an hour of it.
  const peaks = new Map<number, number>();
  const peakOf = (c: number) => {
    let p = peaks.get(c);
    if (p === undefined) {
      p = t0 + r() * (now - t0);
      peaks.set(c, p);
    }
    return p;
  };

  let chatCounter = 0;
  const newChat = () => `chat${o.seed}_${chatCounter++}`;
  for (let i = 0; i < o.organicAccounts; i++) {
    const id = `org${o.seed}_${i}`;
    createdAt.set(id, r() < 0.1 ? now - r() * 6 * DAY : now - (30 + r() * 2000) * DAY);
    const chats = Array.from({ length: 2 + Math.floor(r() * 6) }, newChat);
    const sessions = 1 + Math.floor(exp(2));
    for (let s = 0; s < sessions; s++) {
      const cluster = popularCluster();
      // Popular pictures are shared near their peak; the long tail any time.
      let at = cluster <= 50 ? peakOf(cluster) + (r() - 0.5) * 2 * exp(20 * MIN) : t0 + r() * (now - t0);
      const n = 1 + Math.floor(exp(1.5));
      for (let k = 0; k < n; k++) {
        at += exp(3 * MIN);
        if (at > now || at < t0) break;
        shares.push({ sender: id, cluster: k === 0 ? cluster : popularCluster(), conversation: pick(chats), at: Math.floor(at) });
      }
    }
  }

  let clusterCounter = 1_000_000;
  for (let c = 0; c < o.campaigns; c++) {
    const careful = r() < 0.5;
    const size = 5 + Math.floor(r() * 26);
    const members: string[] = [];
    for (let m = 0; m < size; m++) {
      const id = `camp${o.seed}_${c}_${m}`;
      members.push(id);
      campaignOf.set(id, c);
      const young = r() < (careful ? 0.3 : 0.8);
      createdAt.set(id, young ? now - r() * 5 * DAY : now - (30 + r() * 900) * DAY);
    }
    const scripted = new Set(members.filter(() => r() < (careful ? 0.1 : 0.5)));
    const pictures = 3 + Math.floor(r() * 6);
    const jitter = careful ? 4 * MIN : 20_000;
    const start = t0 + r() * (now - t0 - pictures * 40 * MIN);
    for (let p = 0; p < pictures; p++) {
      const cluster = clusterCounter++;
      const at = start + p * (20 + r() * 20) * MIN;
      for (const id of members) {
        if (careful && r() < 0.4) continue; // careful members skip some pictures
        const chats = 2 + Math.floor(r() * 6);
        let t = at + r() * jitter;
        for (let k = 0; k < chats; k++) {
          shares.push({ sender: id, cluster, conversation: newChat(), at: Math.floor(t) });
          t += scripted.has(id) ? 15_000 + r() * 1_000 : exp(40_000);
        }
      }
    }
    // Campaign accounts also share some organic pictures, as cover.
    for (const id of members) {
      if (r() < 0.5) shares.push({ sender: id, cluster: popularCluster(), conversation: newChat(), at: Math.floor(t0 + r() * (now - t0)) });
    }
  }
  shares.sort((a, b) => a.at - b.at);
  return { shares: shares.filter((s) => s.at <= now && s.at > t0), createdAt, campaignOf, now };
}

/** Precision and recall over accounts, and the share of campaigns found (half their members flagged). */
export function score(sim: SimResult, flagged: ReadonlySet<string>) {
  let tp = 0;
  let fp = 0;
  for (const id of flagged) {
    if (sim.campaignOf.has(id)) tp++;
    else fp++;
  }
  const active = new Set(sim.shares.map((s) => s.sender));
  const truth = [...sim.campaignOf.keys()].filter((id) => active.has(id));
  const fn = truth.filter((id) => !flagged.has(id)).length;
  const campaigns = new Map<number, { members: number; found: number }>();
  for (const id of truth) {
    const c = sim.campaignOf.get(id)!;
    const e = campaigns.get(c) ?? { members: 0, found: 0 };
    e.members++;
    if (flagged.has(id)) e.found++;
    campaigns.set(c, e);
  }
  const found = [...campaigns.values()].filter((e) => e.found * 2 >= e.members).length;
  return {
    precision: tp + fp === 0 ? 1 : tp / (tp + fp),
    recall: tp + fn === 0 ? 1 : tp / (tp + fn),
    flagged: flagged.size,
    falsePositives: fp,
    campaignsFound: found,
    campaigns: campaigns.size,
    organicAccounts: active.size - truth.length,
    shares: sim.shares.length,
  };
}
