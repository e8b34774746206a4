/**
 * Suspected coordinated amplification (issue 12), from who shared which near-duplicate cluster
 * into which chat and when — nothing about what the messages said.
 *
 * The core is co-sharing as CooRnet measures it for links on public platforms: two accounts
 * **co-share** a cluster when both share it within `windowMs` of each other. One coincidence is
 * what organic virality looks like (many people pass on the same picture within a minute); an
 * account pair that co-shares **several different** clusters is what a network run from one
 * place looks like. Pairs co-sharing at least `minClusters` clusters are linked, and the
 * connected groups of linked accounts (at least `minAccounts`) are the suspected networks.
 *
 * Windows where more than 100 accounts shared the same cluster are crowds (what went viral) and
 * count for nothing; each share is compared with at most the 50 shares of its cluster just before it.
 *
 * Two signals lower the bar or raise the score, as evidence:
 * - young accounts (created within `youngMs` of their first share here);
 * - machine-like timing: the gaps between an account's consecutive shares within a session
 *   (gaps over 10 minutes split sessions) vary little (coefficient of variation ≤ `machineCv`,
 *   at least `machineMinShares` shares); people are bursty.
 * A pair of accounts that are both young or machine-like is linked by one co-shared cluster fewer.
 *
 * Pure: the caller reads the shares (a bounded window) and the accounts' ages.
 */

export interface ShareRecord {
  sender: string;
  cluster: number;
  conversation: string;
  at: number;
}

export interface AmplificationParams {
  windowMs: number;
  minClusters: number;
  minAccounts: number;
  youngMs: number;
  machineCv: number;
  machineMinShares: number;
}

/** Chosen on the development seeds of bench/amplification.ts only (see docs/benchmarks.md). */
export const DEFAULT_AMPLIFICATION: AmplificationParams = {
  windowMs: 30_000,
  minClusters: 3,
  minAccounts: 3,
  youngMs: 7 * 24 * 3_600_000,
  machineCv: 0.25,
  machineMinShares: 5,
};

export interface SuspectAccount {
  accountId: string;
  shares: number;
  chats: number;
  young: boolean;
  timingCv: number | null;
  machineLike: boolean;
}

export interface SuspectNetwork {
  accounts: SuspectAccount[];
  clusters: number[];
  coShares: number;
  chats: number;
  young: number;
  machineLike: number;
  firstAt: number;
  lastAt: number;
  score: number;
}

/** Gaps longer than this separate sessions; timing is judged within sessions (people pause, scripts too). */
const SESSION_GAP_MS = 10 * 60_000;

/** Coefficient of variation of the gaps between consecutive shares within sessions; null with fewer than 2 such gaps. */
/** Earlier shares of the same cluster each share is compared with (see detectNetworks). */
const NEIGHBOURS = 50;
/**
 * A window in which more accounts than this shared the same cluster is a crowd: what went viral,
 * where sharing at the same moment says nothing about any two of them (and pairing everyone would
 * cost the square of the crowd). Co-shares in a crowded window are not counted. Fixed above the
 * largest simulated campaign (30 accounts), not tuned; a network that only ever pushes its content
 * in crowds of more than 100 accounts at once is not found this way (the velocity tiers hold it).
 */
const CROWDED = 100;

function timingCv(times: number[]): number | null {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) {
    const gap = times[i]! - times[i - 1]!;
    if (gap <= SESSION_GAP_MS) gaps.push(gap);
  }
  if (gaps.length < 2) return null;
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  if (mean <= 0) return 0;
  const variance = gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length;
  return Math.sqrt(variance) / mean;
}

export function detectNetworks(shares: readonly ShareRecord[], createdAt: ReadonlyMap<string, number>, params: AmplificationParams = DEFAULT_AMPLIFICATION): SuspectNetwork[] {
  // Per account: shares, chats, timing; young by age at its first share in the window.
  const byAccount = new Map<string, ShareRecord[]>();
  for (const s of shares) {
    const list = byAccount.get(s.sender) ?? [];
    list.push(s);
    byAccount.set(s.sender, list);
  }
  const info = new Map<string, SuspectAccount>();
  for (const [id, list] of byAccount) {
    list.sort((a, b) => a.at - b.at);
    const cv = timingCv(list.map((s) => s.at));
    const created = createdAt.get(id);
    info.set(id, {
      accountId: id,
      shares: list.length,
      chats: new Set(list.map((s) => s.conversation)).size,
      young: created !== undefined && list[0]!.at - created < params.youngMs,
      timingCv: cv === null ? null : Math.round(cv * 1000) / 1000,
      machineLike: cv !== null && list.length >= params.machineMinShares && cv <= params.machineCv,
    });
  }
  const suspicious = (id: string) => {
    const a = info.get(id)!;
    return a.young || a.machineLike;
  };

  // Co-shares per account pair: the distinct clusters both shared within the window of each other,
  // and how many share pairs that was. Per cluster, a sliding window over its shares in time order,
  // each share paired with at most NEIGHBOURS of the shares just before it: a viral burst (thousands
  // of shares in 30 s) would otherwise cost the square of its size, and a network whose members
  // share within seconds of each other still meets its own members among the nearest.
  const ids = [...byAccount.keys()];
  const index = new Map(ids.map((id, i) => [id, i]));
  const n = ids.length;
  const byCluster = new Map<number, { sender: number; at: number }[]>();
  for (const s of shares) {
    const list = byCluster.get(s.cluster) ?? [];
    list.push({ sender: index.get(s.sender)!, at: s.at });
    byCluster.set(s.cluster, list);
  }
  const distinct = new Map<number, number>();
  const lastCluster = new Map<number, number>();
  const coShareCount = new Map<number, number>();
  const eachPair = (visit: (key: number, cluster: number) => void) => {
    for (const [cluster, list] of byCluster) {
      let start = 0;
      // Senders in the window (share counts), to tell a crowded window.
      const inWindow = new Map<number, number>();
      for (let i = 0; i < list.length; i++) {
        while (list[i]!.at - list[start]!.at > params.windowMs) {
          const gone = list[start]!.sender;
          const left = inWindow.get(gone)! - 1;
          if (left === 0) inWindow.delete(gone);
          else inWindow.set(gone, left);
          start++;
        }
        inWindow.set(list[i]!.sender, (inWindow.get(list[i]!.sender) ?? 0) + 1);
        if (inWindow.size > CROWDED) continue;
        for (let j = Math.max(start, i - NEIGHBOURS); j < i; j++) {
          const a = list[j]!.sender;
          const b = list[i]!.sender;
          if (a !== b) visit(a < b ? a * n + b : b * n + a, cluster);
        }
      }
    }
  };
  for (const list of byCluster.values()) list.sort((a, b) => a.at - b.at);
  eachPair((key, cluster) => {
    coShareCount.set(key, (coShareCount.get(key) ?? 0) + 1);
    if (lastCluster.get(key) !== cluster) {
      lastCluster.set(key, cluster);
      distinct.set(key, (distinct.get(key) ?? 0) + 1);
    }
  });

  // Links, then connected components (union-find over account numbers).
  const parent = Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== r) r = parent[r]!;
    while (parent[x] !== r) {
      const next = parent[x]!;
      parent[x] = r;
      x = next;
    }
    return r;
  };
  const links = new Map<number, Set<number>>();
  for (const [key, count] of distinct) {
    const a = Math.floor(key / n);
    const b = key % n;
    const needed = suspicious(ids[a]!) && suspicious(ids[b]!) ? Math.max(1, params.minClusters - 1) : params.minClusters;
    if (count < needed) continue;
    links.set(key, new Set());
    const ra = find(a);
    const rb = find(b);
    if (ra !== rb) parent[ra] = rb;
  }
  // The clusters behind each link, for the evidence: a second pass, recording only links.
  if (links.size > 0) eachPair((key, cluster) => links.get(key)?.add(cluster));
  const groups = new Map<number, Set<string>>();
  for (const key of links.keys()) {
    for (const x of [Math.floor(key / n), key % n]) {
      const r = find(x);
      let g = groups.get(r);
      if (!g) {
        g = new Set();
        groups.set(r, g);
      }
      g.add(ids[x]!);
    }
  }

  const networks: SuspectNetwork[] = [];
  for (const members of groups.values()) {
    if (members.size < params.minAccounts) continue;
    const clusters = new Set<number>();
    let coShares = 0;
    let internalLinks = 0;
    for (const [key, linked] of links) {
      if (!members.has(ids[Math.floor(key / n)]!)) continue;
      internalLinks++;
      for (const c of linked) clusters.add(c);
      coShares += coShareCount.get(key)!;
    }
    const accounts = [...members].map((id) => info.get(id)!).sort((x, y) => y.shares - x.shares || x.accountId.localeCompare(y.accountId));
    const own = shares.filter((s) => members.has(s.sender));
    const young = accounts.filter((a) => a.young).length;
    const machineLike = accounts.filter((a) => a.machineLike).length;
    // Density of the links among the members, with the share of young or machine-like accounts.
    const possible = (members.size * (members.size - 1)) / 2;
    const density = internalLinks / possible;
    const flagged = accounts.filter((a) => a.young || a.machineLike).length / accounts.length;
    const score = Math.round((0.6 * density + 0.4 * flagged) * 1000) / 1000;
    networks.push({
      accounts,
      clusters: [...clusters].sort((a, b) => a - b),
      coShares,
      chats: new Set(own.map((s) => s.conversation)).size,
      young,
      machineLike,
      firstAt: Math.min(...own.map((s) => s.at)),
      lastAt: Math.max(...own.map((s) => s.at)),
      score,
    });
  }
  return networks.sort((a, b) => b.score - a.score || b.accounts.length - a.accounts.length);
}
