/**
 * The spread model behind bench:spread (bench/spread-model.ts): its three policies decide as the
 * server does (forward-limits.ts, spread.ts), so its figures say something about MMD. Pure: no
 * server, no database.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FORWARD_CHATS, FORWARD_WINDOW_MS, MANY_TIMES_CHATS, MANY_TIMES_HOPS } from '../src/messaging/forward-limits.ts';
import {
  BEHAVIOUR_DEFAULTS,
  NETWORK_DEFAULTS,
  type Policy,
  type ShareRequest,
  buildWorld,
  createRules,
  modelBackend,
  networkFromGroups,
  simulate,
} from '../../../bench/spread-model.ts';

const T0 = 1_000_000;

/** A chain: person i and i+1 share group i (people 0..n). */
function chainWorld(n: number) {
  return buildWorld({ network: networkFromGroups(n + 1, Array.from({ length: n }, (_, i) => [i, i + 1])), behaviour: BEHAVIOUR_DEFAULTS, origin: 0 });
}

/**
 * Passes the picture down the chain: person i shares into group i, by `via(i)`, a minute apart.
 * Returns each accepted share's label hops.
 */
function passDown(policy: Policy, n: number, via: (i: number) => 'forward' | 'upload') {
  const rules = createRules(chainWorld(n), policy);
  const labels: number[] = [];
  for (let i = 0; i < n; i += 1) {
    const r: ShareRequest = { copy: i, sender: i, group: i, via: i === 0 ? 'upload' : via(i), source: i - 1, at: T0 + i * FORWARD_WINDOW_MS };
    const result = rules.decide(r);
    assert.ok(result.ok, `share ${i} refused`);
    rules.commit(r, result.labelHops);
    labels.push(result.labelHops);
  }
  return labels;
}

test('forwarding counts hops along the chain under both counters; a re-upload resets them to 0 under forward-only counting but not under cluster counting', () => {
  const forwards = () => 'forward' as const;
  assert.deepEqual(passDown('forward-only', 7, forwards), [0, 1, 2, 3, 4, 5, 6]);
  assert.deepEqual(passDown('cluster', 7, forwards), [0, 1, 2, 3, 4, 5, 6]);
  // Person 4 saves the picture and sends it afresh; the others forward.
  const reuploadAt4 = (i: number) => (i === 4 ? 'upload' : 'forward');
  assert.deepEqual(passDown('forward-only', 7, reuploadAt4), [0, 1, 2, 3, 0, 1, 2]);
  assert.deepEqual(passDown('cluster', 7, reuploadAt4), [0, 1, 2, 3, 4, 5, 6]);
  // Everyone re-uploads: WhatsApp's count never leaves 0, MMD's reaches "forwarded many times".
  const uploads = () => 'upload' as const;
  assert.deepEqual(passDown('forward-only', 7, uploads), [0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(passDown('cluster', 7, uploads).slice(MANY_TIMES_HOPS), [5, 6]);
});

/** Person 0 is in `groups` groups (with person 1..groups each); person 0 shares into all of them at once. */
function fanOut(policy: Policy, groups: number, via: 'forward' | 'upload', sourceHops = 0) {
  // A chain of `sourceHops` forwards reaching person 0 first: people groups+1 .. groups+sourceHops.
  const lists: number[][] = Array.from({ length: groups }, (_, g) => [0, g + 1]);
  const feeders = Array.from({ length: sourceHops }, (_, k) => groups + 1 + k);
  const chainGroups = feeders.map((p, k) => [p, k + 1 < feeders.length ? feeders[k + 1]! : 0]);
  const world = buildWorld({ network: networkFromGroups(groups + 1 + sourceHops, [...lists, ...chainGroups]), behaviour: BEHAVIOUR_DEFAULTS, origin: feeders[0] ?? 0 });
  const rules = createRules(world, policy);
  let copy = 0;
  let source = -1;
  for (let k = 0; k < feeders.length; k += 1) {
    const r: ShareRequest = { copy, sender: feeders[k]!, group: groups + k, via: k === 0 ? 'upload' : 'forward', source, at: T0 - 600_000 + k * FORWARD_WINDOW_MS };
    const out = rules.decide(r);
    assert.ok(out.ok);
    rules.commit(r, out.labelHops);
    source = copy;
    copy += 1;
  }
  const accepted: number[] = [];
  const refusals: number[] = [];
  for (let g = 0; g < groups; g += 1) {
    const r: ShareRequest = { copy, sender: 0, group: g, via, source: via === 'forward' || source >= 0 ? source : -1, at: T0 + g * 1000 };
    const out = rules.decide(r);
    if (out.ok) {
      rules.commit(r, out.labelHops);
      accepted.push(g);
      copy += 1;
    } else refusals.push(out.retryAfterMs);
  }
  // A minute after the first share, one more chat is allowed again.
  const later: ShareRequest = { copy, sender: 0, group: groups - 1, via, source, at: T0 + FORWARD_WINDOW_MS + 500 };
  return { accepted: accepted.length, refusals, later: rules.decide(later).ok };
}

test('limits cap how many chats one person reaches per minute: 5 for forwards, 1 once forwarded many times; re-uploads are capped only under cluster counting', () => {
  assert.deepEqual(fanOut('none', 8, 'forward', 1).accepted, 8);
  const forwardOnly = fanOut('forward-only', 8, 'forward', 1);
  assert.equal(forwardOnly.accepted, FORWARD_CHATS);
  // Refused until the first share leaves the one-minute window (Retry-After, whole seconds).
  assert.deepEqual(forwardOnly.refusals, [55_000, 54_000, 53_000]);
  assert.equal(forwardOnly.later, true);
  assert.equal(fanOut('cluster', 8, 'forward', 1).accepted, FORWARD_CHATS);
  // A copy that reached them after 5 hops: one chat a minute.
  assert.equal(fanOut('forward-only', 8, 'forward', MANY_TIMES_HOPS + 1).accepted, MANY_TIMES_CHATS);
  assert.equal(fanOut('cluster', 8, 'forward', MANY_TIMES_HOPS + 1).accepted, MANY_TIMES_CHATS);
  // Saving the picture and sending it afresh to every chat: WhatsApp's rule does not see it, MMD's does.
  assert.equal(fanOut('forward-only', 8, 'upload', MANY_TIMES_HOPS + 1).accepted, 8);
  assert.equal(fanOut('cluster', 8, 'upload', 1).accepted, FORWARD_CHATS);
  assert.equal(fanOut('cluster', 8, 'upload', MANY_TIMES_HOPS + 1).accepted, MANY_TIMES_CHATS);
});

test('a whole spread is deterministic for a seed; with friction off nothing is refused; under cluster counting no copy that travelled 5 hops goes out unlabelled, re-uploaded or not', async () => {
  const world = buildWorld({ network: { people: 3000, seed: 7, ...NETWORK_DEFAULTS, maxGroup: 120 }, behaviour: { ...BEHAVIOUR_DEFAULTS, spreaderShare: 0.15, reuploadShare: 0.59 } });
  const run = (policy: Policy) => simulate(world, modelBackend(world, policy), { trace: true });
  const none = await run('none');
  assert.deepEqual(await run('none'), none, 'same seed, same spread');
  assert.equal(none.refusals, 0);
  assert.ok(none.reachedPeople > 1000, `the picture spreads (${none.reachedPeople} reached)`);
  const forwardOnly = await run('forward-only');
  const cluster = await run('cluster');
  assert.ok(forwardOnly.highlyForwarded > 0 && cluster.highlyForwarded > 0, 'some copies travel 5 hops');
  assert.equal(cluster.unlabelledShareOfHighly, 0);
  assert.ok(forwardOnly.unlabelledShareOfHighly > 0.5, `re-uploads hide most of them from WhatsApp's count (${forwardOnly.unlabelledShareOfHighly})`);
  // (Which counter refuses more depends on the spread: cluster counting labels only what really
  // travelled, and limits re-uploads too; the per-share caps are checked above.)
  assert.ok(cluster.refusals > 0, 'cluster counting refuses shares over its limits');
});
