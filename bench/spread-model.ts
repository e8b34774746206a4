/**
 * The spread model behind bench:spread: one picture passed on through group chats, under three
 * policies, deterministic for a seed.
 *
 * - **Network** (`buildNetwork`): people in groups. Memberships per person and group sizes are
 *   both truncated discrete power laws (heavy-tailed, as in the public-group studies: most people
 *   in one or two groups, a few in dozens; most groups small, a tail up to WhatsApp's cap of 256
 *   members at the time of those studies). People are dealt into groups by shuffling membership
 *   "stubs" (a configuration model). The exponents are chosen, not fitted: see docs/benchmarks.md.
 * - **Spreaders** (`buildWorld`): a share of people pass the picture on once, a while after it
 *   first reaches them (a heavy-tailed reaction delay), into each of their groups that has not had
 *   it yet, one chat after another. Some forward the copy they got; the others save it and send
 *   it afresh (a re-upload). On a refusal a spreader gives up with some probability, else waits
 *   the Retry-After and tries that chat again. Every draw is per person (or per person and
 *   refusal), made from the seed, so all policies see the same people behave the same way.
 * - **Policies** (`createRules`): `none` (no limit); `forward-only` (WhatsApp's rule: hops counted
 *   along forward chains, a re-upload is a new message at 0 hops, and only forwards are limited:
 *   5 chats a minute per person and message, 1 once the forwarded copy has 5 hops); `cluster`
 *   (MMD's, apps/server/src/messaging/spread.ts: the same forward limit, and every share of the
 *   picture, however sent, counted per person and cluster with hops inherited from the
 *   first copy that reached the sender before their own first share). The limit itself is the server's own
 *   `enforceChatLimit` with its constants (forward-limits.ts), not a copy.
 *
 * `simulate` runs the event loop against any `Backend`: the model's rules, or the real server
 * (bench/spread.ts), so both are driven by the same people making the same decisions.
 */
import { AppError } from '../apps/server/src/errors.ts';
import { FORWARD_WINDOW_MS, MANY_TIMES_HOPS, enforceChatLimit } from '../apps/server/src/messaging/forward-limits.ts';

export type Policy = 'none' | 'forward-only' | 'cluster';
export const POLICIES: readonly Policy[] = ['none', 'forward-only', 'cluster'];

// ---------------------------------------------------------------------------------------------
// Deterministic randomness

/** A 32-bit mix of the inputs (splitmix/murmur finaliser), as a float in [0, 1). */
export function hashUnit(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h = Math.imul(h ^ (p | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 4294967296;
}

/** A seeded generator (mulberry32): uniform floats in [0, 1). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A sampler of k in [min, max] with P(k) ∝ k^-exponent. */
function powerLaw(min: number, max: number, exponent: number): (u: number) => number {
  const cdf: number[] = [];
  let total = 0;
  for (let k = min; k <= max; k += 1) {
    total += k ** -exponent;
    cdf.push(total);
  }
  return (u) => {
    const x = u * total;
    let lo = 0;
    let hi = cdf.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return min + lo;
  };
}

// ---------------------------------------------------------------------------------------------
// Network

export interface NetworkOptions {
  people: number;
  seed: number;
  /** Memberships per person: P(k) ∝ k^-membershipExponent for k in [1, maxMemberships]. */
  membershipExponent: number;
  maxMemberships: number;
  /** Group sizes: P(s) ∝ s^-groupExponent for s in [minGroup, maxGroup]. */
  groupExponent: number;
  minGroup: number;
  maxGroup: number;
}

export const NETWORK_DEFAULTS = { membershipExponent: 2.5, maxMemberships: 64, groupExponent: 1.5, minGroup: 3, maxGroup: 256 };

/** Groups as compressed rows both ways: the members of group g are groupMembers[groupStart[g] .. groupStart[g+1]). */
export interface Network {
  people: number;
  groups: number;
  groupStart: Int32Array;
  groupMembers: Int32Array;
  personStart: Int32Array;
  personGroups: Int32Array;
}

export function buildNetwork(o: NetworkOptions): Network {
  const random = rng(o.seed ^ 0x5eed);
  const memberships = powerLaw(1, o.maxMemberships, o.membershipExponent);
  const sizeOf = powerLaw(o.minGroup, Math.max(o.minGroup, o.maxGroup), o.groupExponent);
  let stubsTotal = 0;
  const want = new Int32Array(o.people);
  for (let p = 0; p < o.people; p += 1) {
    want[p] = memberships(random());
    stubsTotal += want[p]!;
  }
  const stubs = new Int32Array(stubsTotal);
  for (let p = 0, i = 0; p < o.people; p += 1) for (let k = 0; k < want[p]!; k += 1) stubs[i++] = p;
  for (let i = stubsTotal - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    const t = stubs[i]!;
    stubs[i] = stubs[j]!;
    stubs[j] = t;
  }
  // Deal the shuffled stubs into groups of drawn sizes; a person dealt twice into one group is
  // there once. The last group takes what is left (joined to the one before if too small).
  const starts: number[] = [0];
  const members: number[] = [];
  const inGroup = new Int32Array(o.people).fill(-1);
  let i = 0;
  while (i < stubsTotal) {
    let size = sizeOf(random());
    if (stubsTotal - i - size < o.minGroup) size = stubsTotal - i;
    const g = starts.length - 1;
    for (const end = i + size; i < end; i += 1) {
      const p = stubs[i]!;
      if (inGroup[p] === g) continue;
      inGroup[p] = g;
      members.push(p);
    }
    starts.push(members.length);
  }
  const groups = starts.length - 1;
  const groupStart = Int32Array.from(starts);
  const groupMembers = Int32Array.from(members);
  const personStart = new Int32Array(o.people + 1);
  for (const p of groupMembers) personStart[p + 1]! += 1;
  for (let p = 0; p < o.people; p += 1) personStart[p + 1]! += personStart[p]!;
  const fill = personStart.slice(0, o.people);
  const personGroups = new Int32Array(groupMembers.length);
  for (let g = 0; g < groups; g += 1) for (let k = groupStart[g]!; k < groupStart[g + 1]!; k += 1) personGroups[fill[groupMembers[k]!]!++] = g;
  return { people: o.people, groups, groupStart, groupMembers, personStart, personGroups };
}

/** What a network looks like: groups per person and group sizes. */
export function networkStats(n: Network) {
  let one = 0;
  let moreThanFive = 0;
  for (let p = 0; p < n.people; p += 1) {
    const k = n.personStart[p + 1]! - n.personStart[p]!;
    if (k === 1) one += 1;
    if (k > 5) moreThanFive += 1;
  }
  const sizes = Array.from({ length: n.groups }, (_, g) => n.groupStart[g + 1]! - n.groupStart[g]!).sort((a, b) => a - b);
  const memberships = n.groupMembers.length;
  const inBig = sizes.filter((s) => s >= 100).reduce((a, s) => a + s, 0);
  return {
    groups: n.groups,
    groups_per_person: memberships / n.people,
    people_in_one_group: one / n.people,
    people_in_more_than_five: moreThanFive / n.people,
    group_size_median: sizes[sizes.length >> 1] ?? 0,
    group_size_mean: memberships / Math.max(1, n.groups),
    group_size_max: sizes.at(-1) ?? 0,
    memberships_in_groups_of_100_or_more: inBig / Math.max(1, memberships),
  };
}

/** A network from explicit member lists (tests and small examples). */
export function networkFromGroups(people: number, groups: readonly (readonly number[])[]): Network {
  const groupStart = new Int32Array(groups.length + 1);
  groups.forEach((g, i) => {
    groupStart[i + 1] = groupStart[i]! + g.length;
  });
  const groupMembers = Int32Array.from(groups.flat());
  const personStart = new Int32Array(people + 1);
  for (const p of groupMembers) personStart[p + 1]! += 1;
  for (let p = 0; p < people; p += 1) personStart[p + 1]! += personStart[p]!;
  const fill = personStart.slice(0, people);
  const personGroups = new Int32Array(groupMembers.length);
  groups.forEach((g, i) => {
    for (const p of g) personGroups[fill[p]!++] = i;
  });
  return { people, groups: groups.length, groupStart, groupMembers, personStart, personGroups };
}

export function groupsOf(n: Network, person: number): Int32Array {
  return n.personGroups.subarray(n.personStart[person]!, n.personStart[person + 1]!);
}
export function membersOf(n: Network, group: number): Int32Array {
  return n.groupMembers.subarray(n.groupStart[group]!, n.groupStart[group + 1]!);
}

// ---------------------------------------------------------------------------------------------
// People's behaviour

export interface BehaviourOptions {
  /** Share of people who pass the picture on when it first reaches them. */
  spreaderShare: number;
  /** Share of spreaders who re-upload (save and send afresh) instead of forwarding. */
  reuploadShare: number;
  /** Probability that a spreader refused by a limit gives up the rest (else comes back and goes on). */
  giveUp: number;
  /**
   * When a refused spreader comes back: 'retry-after' (as soon as the server allows) or 'later'
   * (at their next look at the phone: a fresh reaction delay, at least the Retry-After).
   */
  comeBack: 'retry-after' | 'later';
  /** Reaction delay: log-normal with this median and log-sd. */
  reactionMedianMs: number;
  reactionSigma: number;
  /** Time between two chats of one spreader: picking the next chat in the forward sheet, or attaching the file again. */
  forwardGapMs: number;
  uploadGapMs: number;
}

export const BEHAVIOUR_DEFAULTS: BehaviourOptions = {
  spreaderShare: 0.3,
  reuploadShare: 0.59,
  giveUp: 0.5,
  comeBack: 'retry-after',
  reactionMedianMs: 20 * 60_000,
  reactionSigma: 1,
  forwardGapMs: 3_000,
  uploadGapMs: 20_000,
};

/** A log-normal reaction delay from per-person draws (Box–Muller); `k` numbers a person's successive ones. */
function reactionDelay(b: BehaviourOptions, seed: number, person: number, k: number): number {
  const z = Math.sqrt(-2 * Math.log(1 - hashUnit(seed, person, 3, k))) * Math.cos(2 * Math.PI * hashUnit(seed, person, 4, k));
  return b.reactionMedianMs * Math.exp(b.reactionSigma * z);
}

export interface World {
  network: Network;
  behaviour: BehaviourOptions;
  seed: number;
  /** Who uploads the picture first (into all their groups, at time 0). */
  origin: number;
  spreader: Uint8Array;
  /** 1 if this person re-uploads instead of forwarding. */
  reuploads: Uint8Array;
  reactionMs: Float64Array;
}

export function buildWorld(o: { network: NetworkOptions | Network; seed?: number; behaviour: BehaviourOptions; origin?: number }): World {
  const network = 'groupStart' in o.network ? o.network : buildNetwork(o.network);
  const seed = o.seed ?? ('seed' in o.network ? o.network.seed : 1);
  const b = o.behaviour;
  const spreader = new Uint8Array(network.people);
  const reuploads = new Uint8Array(network.people);
  const reactionMs = new Float64Array(network.people);
  for (let p = 0; p < network.people; p += 1) {
    spreader[p] = hashUnit(seed, p, 1) < b.spreaderShare ? 1 : 0;
    reuploads[p] = hashUnit(seed, p, 2) < b.reuploadShare ? 1 : 0;
    reactionMs[p] = reactionDelay(b, seed, p, 0);
  }
  // The origin: someone in at least two groups (the first such from a seeded start).
  let origin = o.origin ?? Math.floor(hashUnit(seed, 7) * network.people);
  for (let k = 0; o.origin === undefined && k < network.people && groupsOf(network, origin).length < 2; k += 1) origin = (origin + 1) % network.people;
  return { network, behaviour: b, seed, origin, spreader, reuploads, reactionMs };
}

// ---------------------------------------------------------------------------------------------
// Rules: what a backend decides about one share

export interface ShareRequest {
  /** Index of the copy this share would create. */
  copy: number;
  sender: number;
  group: number;
  via: 'forward' | 'upload';
  /** The copy being forwarded (a forward), or the one the sender saved (a re-upload); -1 for the original upload. */
  source: number;
  at: number;
}

/** Accepted with the hops clients see (the label's count), or refused until `retryAfterMs` from now. */
export type ShareResult = { ok: true; labelHops: number } | { ok: false; retryAfterMs: number };

export interface Backend {
  share(r: ShareRequest): ShareResult | Promise<ShareResult>;
}

/**
 * The three policies as the server would run them, in memory. `decide` has no effect; `commit`
 * records a share that went out (the model's own, or the server's when shadowing it).
 */
export function createRules(world: World, policy: Policy) {
  const n = world.network;
  /** Forward-chain hops and forward origin of each copy (a fresh upload is its own origin). */
  const chain: number[] = [];
  const originOf: number[] = [];
  /**
   * Hops of the first share by someone else into a chat of this person (-1: none), before their
   * own first share (as the server does: the copy they most likely pass on; their own share
   * passed back to them is no new spread).
   */
  const received = new Int32Array(n.people).fill(-1);
  const hasShared = new Uint8Array(n.people);
  /** Per person: forwards by origin, and every share of the picture (one cluster), in time order. */
  const forwards = new Map<string, { chat: string; at: number }[]>();
  const shares = new Map<number, { chat: string; at: number }[]>();

  const inWindow = (rows: { chat: string; at: number }[] | undefined, now: number) => (rows ?? []).filter((r) => r.at > now - FORWARD_WINDOW_MS);
  /** The server's limit; a refusal's Retry-After in ms, or null when allowed. */
  function limit(rows: { chat: string; at: number }[], r: ShareRequest, manyTimes: boolean): number | null {
    try {
      enforceChatLimit({ recent: rows, conversationId: String(r.group), manyTimes, now: r.at });
      return null;
    } catch (err) {
      if (err instanceof AppError && err.code === 'forward_limit') return Number(err.extra.headers?.['retry-after']) * 1000;
      throw err;
    }
  }
  function chainHopsOf(r: ShareRequest) {
    return r.via === 'forward' ? chain[r.source]! + 1 : 0;
  }

  return {
    decide(r: ShareRequest): ShareResult {
      const chainHops = chainHopsOf(r);
      if (policy === 'none') return { ok: true, labelHops: chainHops };
      if (r.via === 'forward') {
        const origin = originOf[r.source]!;
        const wait = limit(inWindow(forwards.get(`${r.sender}:${origin}`), r.at), r, chain[r.source]! >= MANY_TIMES_HOPS);
        if (wait !== null) return { ok: false, retryAfterMs: wait };
      }
      if (policy === 'forward-only') return { ok: true, labelHops: chainHops };
      const hops = Math.max(chainHops, received[r.sender]! + 1);
      const wait = limit(inWindow(shares.get(r.sender), r.at), r, hops - 1 >= MANY_TIMES_HOPS);
      return wait === null ? { ok: true, labelHops: hops } : { ok: false, retryAfterMs: wait };
    },
    commit(r: ShareRequest, labelHops: number) {
      chain[r.copy] = chainHopsOf(r);
      originOf[r.copy] = r.via === 'forward' ? originOf[r.source]! : r.copy;
      if (r.via === 'forward') {
        const key = `${r.sender}:${originOf[r.copy]}`;
        forwards.set(key, [...inWindow(forwards.get(key), r.at), { chat: String(r.group), at: r.at }]);
      }
      if (policy === 'cluster') {
        shares.set(r.sender, [...inWindow(shares.get(r.sender), r.at), { chat: String(r.group), at: r.at }]);
        hasShared[r.sender] = 1;
        for (const m of membersOf(n, r.group)) if (m !== r.sender && !hasShared[m] && received[m]! < 0) received[m] = labelHops;
      }
    },
  };
}

/** The model as a backend: decides and records at once. */
export function modelBackend(world: World, policy: Policy): Backend {
  const rules = createRules(world, policy);
  return {
    share(r) {
      const result = rules.decide(r);
      if (result.ok) rules.commit(r, result.labelHops);
      return result;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The event loop

export interface SpreadResult {
  people: number;
  groups: number;
  /** Minutes until half the people (and half the groups) had the picture; null if never. */
  minutesToHalfPeople: number | null;
  minutesToHalfGroups: number | null;
  reachedPeople: number;
  reachedGroups: number;
  /** Copies sent (one per chat), and deliveries (copies × recipients). */
  copies: number;
  deliveries: number;
  /** Copies that travelled ≥ 5 hand-offs from the first upload, however passed on (true hops). */
  highlyForwarded: number;
  highlyForwardedShare: number;
  highlyForwardedDeliveredShare: number;
  /** Copies labelled "forwarded many times" by the policy's own count. */
  labelledManyTimes: number;
  /** Of the truly highly forwarded copies, the share that went out without that label. */
  unlabelledShareOfHighly: number;
  /** Of the copies labelled "forwarded many times", the share that had travelled fewer than 5 hand-offs. */
  overLabelledShare: number;
  refusals: number;
  gaveUp: number;
  /** Per share, in order, when asked for: what the backend answered (for comparing the model with the server). */
  trace: string[];
}

/** A min-heap of [time, sequence, person] events. */
class Events {
  private t: number[] = [];
  private s: number[] = [];
  private p: number[] = [];
  private seq = 0;
  get size() {
    return this.t.length;
  }
  private less(i: number, j: number) {
    return this.t[i]! < this.t[j]! || (this.t[i] === this.t[j] && this.s[i]! < this.s[j]!);
  }
  private swap(i: number, j: number) {
    for (const a of [this.t, this.s, this.p]) {
      const x = a[i]!;
      a[i] = a[j]!;
      a[j] = x;
    }
  }
  push(time: number, person: number) {
    this.t.push(time);
    this.s.push(this.seq++);
    this.p.push(person);
    let i = this.t.length - 1;
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!this.less(i, up)) break;
      this.swap(i, up);
      i = up;
    }
  }
  pop(): [number, number] {
    const out: [number, number] = [this.t[0]!, this.p[0]!];
    const last = this.t.length - 1;
    this.swap(0, last);
    this.t.pop();
    this.s.pop();
    this.p.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.t.length && this.less(l, m)) m = l;
      if (r < this.t.length && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
    return out;
  }
}

export const HIGHLY_FORWARDED_HOPS = MANY_TIMES_HOPS;

/**
 * Runs one spread to its end (every spreader done or given up; `horizonMs` caps it) against
 * `backend`. Times are ms from the first upload.
 */
export async function simulate(world: World, backend: Backend, options: { horizonMs?: number; trace?: boolean; onProgress?: (m: string) => void } = {}): Promise<SpreadResult> {
  const n = world.network;
  const b = world.behaviour;
  const horizon = options.horizonMs ?? 90 * 24 * 3_600_000;
  const firstCopy = new Int32Array(n.people).fill(-1);
  const groupHas = new Uint8Array(n.groups);
  const nextGroup = new Int32Array(n.people);
  const refusalsOf = new Int32Array(n.people);
  const trueHops: number[] = [];
  const events = new Events();
  const r: SpreadResult = {
    people: n.people,
    groups: n.groups,
    minutesToHalfPeople: null,
    minutesToHalfGroups: null,
    reachedPeople: 0,
    reachedGroups: 0,
    copies: 0,
    deliveries: 0,
    highlyForwarded: 0,
    highlyForwardedShare: 0,
    highlyForwardedDeliveredShare: 0,
    labelledManyTimes: 0,
    unlabelledShareOfHighly: 0,
    overLabelledShare: 0,
    refusals: 0,
    gaveUp: 0,
    trace: [],
  };
  let highlyDeliveries = 0;
  let highlyUnlabelled = 0;
  let overLabelled = 0;
  // Each person's groups in a per-person shuffled order (the order they pick chats in).
  const order = (p: number) =>
    Array.from(groupsOf(n, p))
      .map((g, i) => ({ g, k: hashUnit(world.seed, p, 5, i) }))
      .sort((x, y) => x.k - y.k)
      .map((x) => x.g);
  const orders = new Map<number, number[]>();

  const reach = (p: number, copy: number, at: number) => {
    firstCopy[p] = copy;
    r.reachedPeople += 1;
    if (r.minutesToHalfPeople === null && r.reachedPeople * 2 >= n.people) r.minutesToHalfPeople = at / 60_000;
    if (world.spreader[p] || p === world.origin) events.push(at + world.reactionMs[p]!, p);
  };
  firstCopy[world.origin] = -2;
  r.reachedPeople = 1;
  events.push(0, world.origin);
  let steps = 0;
  while (events.size > 0) {
    const [at, p] = events.pop();
    if (at > horizon) break;
    const mine = orders.get(p) ?? order(p);
    orders.set(p, mine);
    // The next of their groups that has not had it yet.
    let i = nextGroup[p]!;
    while (i < mine.length && groupHas[mine[i]!]) i += 1;
    nextGroup[p] = i;
    if (i >= mine.length) {
      orders.delete(p);
      continue;
    }
    const group = mine[i]!;
    const isOrigin = p === world.origin;
    const via = isOrigin || world.reuploads[p] ? 'upload' : 'forward';
    const source = isOrigin ? -1 : firstCopy[p]!;
    const request: ShareRequest = { copy: r.copies, sender: p, group, via, source, at };
    const result = await backend.share(request);
    if (options.trace) r.trace.push(result.ok ? `${p}>${group}:${via}:${result.labelHops}` : `${p}>${group}:${via}:refused:${Math.round(result.retryAfterMs / 1000)}`);
    const gap = via === 'forward' ? b.forwardGapMs : b.uploadGapMs;
    if (!result.ok) {
      r.refusals += 1;
      refusalsOf[p]! += 1;
      if (hashUnit(world.seed, p, 6, refusalsOf[p]!) < b.giveUp) {
        r.gaveUp += 1;
        orders.delete(p);
      } else events.push(at + (b.comeBack === 'later' ? Math.max(result.retryAfterMs, reactionDelay(b, world.seed, p, refusalsOf[p]!)) : result.retryAfterMs), p);
      continue;
    }
    const hops = source < 0 ? 0 : trueHops[source]! + 1;
    trueHops.push(hops);
    r.copies += 1;
    const recipients = membersOf(n, group);
    r.deliveries += recipients.length - 1;
    if (hops >= HIGHLY_FORWARDED_HOPS) {
      r.highlyForwarded += 1;
      highlyDeliveries += recipients.length - 1;
      if (result.labelHops < MANY_TIMES_HOPS) highlyUnlabelled += 1;
    }
    if (result.labelHops >= MANY_TIMES_HOPS) {
      r.labelledManyTimes += 1;
      if (hops < HIGHLY_FORWARDED_HOPS) overLabelled += 1;
    }
    groupHas[group] = 1;
    r.reachedGroups += 1;
    if (r.minutesToHalfGroups === null && r.reachedGroups * 2 >= n.groups) r.minutesToHalfGroups = at / 60_000;
    for (const m of recipients) if (firstCopy[m] === -1) reach(m, request.copy, at);
    nextGroup[p] = i + 1;
    events.push(at + gap, p);
    steps += 1;
    if (options.onProgress && steps % 100_000 === 0) options.onProgress(`${steps} shares, ${r.reachedPeople} people reached, t=${Math.round(at / 60_000)} min`);
  }
  r.highlyForwardedShare = r.copies ? r.highlyForwarded / r.copies : 0;
  r.highlyForwardedDeliveredShare = r.deliveries ? highlyDeliveries / r.deliveries : 0;
  r.unlabelledShareOfHighly = r.highlyForwarded ? highlyUnlabelled / r.highlyForwarded : 0;
  r.overLabelledShare = r.labelledManyTimes ? overLabelled / r.labelledManyTimes : 0;
  return r;
}
