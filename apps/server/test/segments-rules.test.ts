/**
 * Segment rules: what the checker refuses (with the path of each problem), and what the compiled
 * SQL selects, compared on both databases with a plain JavaScript reading of the same rule over
 * random contacts (fast-check) — the oracle lives only here; the server never evaluates a rule per
 * contact. Also: paging an audience by contact id visits each matching contact exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_SEGMENT_CONDITIONS, MAX_SEGMENT_DEPTH, type SegmentRule } from '@mmd/contracts';
import { AppError } from '../src/errors.ts';
import { type TestDatabase, onEachDatabase, openTestDatabase } from '../src/platform/queue/test-fixtures/test-database.ts';
import { type AttributeTypeName, checkRule } from '../src/segments/rules.ts';
import { createSegments } from '../src/segments/service.ts';

const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T12:00:00Z');
const DEFS = new Map<string, AttributeTypeName>([
  ['plan', 'text'],
  ['spend', 'number'],
  ['birthday', 'date'],
  ['member', 'boolean'],
  ['mobile', 'phone'],
]);

function problems(rule: unknown) {
  try {
    checkRule(rule, { attributes: DEFS });
  } catch (err) {
    assert.ok(err instanceof AppError);
    assert.equal(err.code, 'invalid_segment');
    return (err.extra.errors ?? []).map((e) => `${e.path}: ${e.message}`);
  }
  assert.fail('the rule was accepted');
}

describe('segment rules are checked', () => {
  test('an empty rule, or all/any of nothing, is refused', () => {
    assert.match(problems({})[0]!, /^\/: empty rule/);
    assert.match(problems({ all: [] })[0]!, /^\/all: empty rule/);
    assert.match(problems({ any: [{ tag: 'vip' }, { not: {} }] })[0]!, /^\/any\/1\/not: empty rule/);
  });

  test('an unknown attribute is refused, naming those the business has', () => {
    assert.deepEqual(problems({ attribute: 'colour', op: 'eq', value: 'red' }), ['/attribute: unknown attribute "colour" (this business has birthday, member, mobile, plan, spend)']);
  });

  test('a value of the wrong type for the attribute, or an op that does not apply, is refused', () => {
    assert.match(problems({ attribute: 'spend', op: 'gt', value: 'lots' })[0]!, /^\/value: wrong type for number attribute "spend"/);
    assert.match(problems({ attribute: 'birthday', op: 'lt', value: '2024-02-30' })[0]!, /^\/value: wrong type for date attribute "birthday"/);
    assert.match(problems({ attribute: 'member', op: 'eq', value: 'yes' })[0]!, /wrong type for boolean attribute "member"/);
    assert.match(problems({ attribute: 'member', op: 'gt', value: true })[0]!, /^\/op: "gt" does not apply to boolean attribute "member"/);
    assert.match(problems({ attribute: 'plan', op: 'between', value: ['a', 'b'] })[0]!, /"between" does not apply to text/);
    assert.match(problems({ attribute: 'spend', op: 'between', value: [10, 1] })[0]!, /low first/);
  });

  test('every problem is listed at once, each at its path', () => {
    const listed = problems({ all: [{ tag: 'has space' }, { locale: 'xx-!!' }, { time_zone: ['Mars/Olympus'] }, { activity: 'read', op: 'within_days' }, { consent: 'marketing', state: 'maybe' }, { colour: 'red' }] });
    assert.deepEqual(
      listed.map((p) => p.split(':')[0]),
      ['/all/0/tag', '/all/1/locale', '/all/2/time_zone', '/all/3/days', '/all/4/state', '/all/5'],
    );
  });

  test('too deep or too many conditions is refused', () => {
    let deep: unknown = { tag: 'x' };
    for (let i = 0; i < 9; i++) deep = { not: deep };
    assert.match(problems(deep).join(), /nest at most 8 deep/);
    assert.match(problems({ any: Array.from({ length: 101 }, () => ({ tag: 'x' })) }).join(), /at most 100 conditions/);
  });
});

// ---------------------------------------------------------------------------------------------
// The compiled SQL against a reference reading, on random contacts and random rules

interface Person {
  id: string;
  accountId: string;
  tags: string[];
  attributes: { plan?: string; spend?: number; birthday?: string; member?: boolean; mobile?: string };
  consent: { marketing?: 'opted_in' | 'opted_out'; surveys?: 'opted_in' | 'opted_out' };
  locale: string | null;
  timeZone: string | null;
  lastRead: number | null;
  lastReply: number | null;
  lastClick: number | null;
  erased: boolean;
}

const TAGS = ['vip', 'new', 'churn', 'b2b'];
const PLANS = ['gold', 'silver', 'Gold_plus', '50%_off'];
const LOCALES = ['fr', 'fr-FR', 'fr-CA', 'en-GB', 'de'];
const ZONES = ['Europe/Paris', 'America/New_York', 'Asia/Tokyo'];
const DATES = ['1980-01-01', '1990-06-15', '2000-02-29', '2010-12-31'];
const MOBILES = ['+33612345678', '+442079460958', '+12125550123'];
const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

const personArb = fc.record({
  tags: fc.subarray(TAGS),
  attributes: fc.record({
    plan: maybe(fc.constantFrom(...PLANS)),
    spend: maybe(fc.constantFrom(0, 5, 10, 99.5, 1000)),
    birthday: maybe(fc.constantFrom(...DATES)),
    member: maybe(fc.boolean()),
    mobile: maybe(fc.constantFrom(...MOBILES)),
  }),
  consent: fc.record({ marketing: maybe(fc.constantFrom('opted_in' as const, 'opted_out' as const)), surveys: maybe(fc.constantFrom('opted_in' as const, 'opted_out' as const)) }),
  locale: fc.option(fc.constantFrom(...LOCALES), { nil: null }),
  timeZone: fc.option(fc.constantFrom(...ZONES), { nil: null }),
  lastRead: fc.option(fc.integer({ min: 0, max: 90 }).map((d) => NOW - d * DAY - 1000), { nil: null }),
  lastReply: fc.option(fc.integer({ min: 0, max: 90 }).map((d) => NOW - d * DAY - 1000), { nil: null }),
  lastClick: fc.option(fc.integer({ min: 0, max: 90 }).map((d) => NOW - d * DAY - 1000), { nil: null }),
  erased: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
});

const conditionArb: fc.Arbitrary<SegmentRule> = fc.oneof(
  fc.oneof(fc.constantFrom(...TAGS), fc.subarray(TAGS, { minLength: 1 })).map((tag) => ({ tag })),
  fc.record({ attribute: fc.constant('plan'), op: fc.constantFrom('eq' as const, 'ne' as const, 'contains' as const, 'starts_with' as const, 'exists' as const), value: fc.constantFrom('gold', 'GOLD', '_', '%', 'sil') }).map((r) =>
    r.op === 'exists' ? { attribute: r.attribute, op: r.op } : r,
  ),
  fc.record({ attribute: fc.constant('plan'), op: fc.constant('in' as const), value: fc.subarray(PLANS, { minLength: 1 }) }),
  fc.record({ attribute: fc.constant('spend'), op: fc.constantFrom('eq' as const, 'ne' as const, 'lt' as const, 'lte' as const, 'gt' as const, 'gte' as const), value: fc.constantFrom(0, 5, 10, 99.5, 500) }),
  fc.record({ attribute: fc.constant('spend'), op: fc.constant('between' as const), value: fc.constantFrom([0, 10], [5, 99.5], [100, 2000]).map((v) => [...v]) }),
  fc.record({ attribute: fc.constant('birthday'), op: fc.constantFrom('lt' as const, 'gte' as const, 'eq' as const), value: fc.constantFrom(...DATES) }),
  fc.record({ attribute: fc.constant('member'), op: fc.constantFrom('eq' as const, 'ne' as const), value: fc.boolean() }),
  fc.record({ attribute: fc.constant('mobile'), op: fc.constantFrom('eq' as const, 'starts_with' as const), value: fc.constantFrom('+33 6 12 34 56 78', '+44', '+1') }),
  fc.record({ consent: fc.constantFrom('marketing', 'surveys'), state: fc.constantFrom('opted_in' as const, 'opted_out' as const, 'none' as const) }),
  fc.oneof(fc.constantFrom(...LOCALES, 'en'), fc.subarray([...LOCALES, 'en'], { minLength: 1 })).map((locale) => ({ locale })),
  fc.subarray(ZONES, { minLength: 1 }).map((time_zone) => ({ time_zone })),
  fc.record({ activity: fc.constantFrom('read' as const, 'reply' as const, 'click' as const), op: fc.constantFrom('within_days' as const, 'before_days' as const), days: fc.constantFrom(1, 7, 30) }),
  fc.record({ activity: fc.constantFrom('read' as const, 'reply' as const, 'click' as const), op: fc.constantFrom('ever' as const, 'never' as const) }),
);

/** Conditions in a rule, counted as the checker counts them. */
function conditionCount(rule: SegmentRule): number {
  if ('all' in rule) return rule.all.reduce((n, r) => n + conditionCount(r), 0);
  if ('any' in rule) return rule.any.reduce((n, r) => n + conditionCount(r), 0);
  if ('not' in rule) return conditionCount(rule.not);
  return 1;
}

// Only rules the checker accepts: combinators nest at most MAX_SEGMENT_DEPTH deep (at the limit
// the first choice, a plain condition, is the only one left) and hold at most
// MAX_SEGMENT_CONDITIONS conditions. The refusals themselves are tested above.
const ruleArb: fc.Arbitrary<SegmentRule> = fc
  .letrec<{ rule: SegmentRule }>((tie) => ({
    rule: fc.oneof(
      { depthSize: 'small', withCrossShrink: true, maxDepth: MAX_SEGMENT_DEPTH },
      conditionArb,
      fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((all) => ({ all })),
      fc.array(tie('rule'), { minLength: 1, maxLength: 3 }).map((any) => ({ any })),
      tie('rule').map((not) => ({ not })),
    ),
  }))
  .rule.filter((rule) => conditionCount(rule) <= MAX_SEGMENT_CONDITIONS);

/** The reference reading of a rule for one person (what the SQL must agree with). */
function holds(rule: SegmentRule, p: Person): boolean {
  if ('all' in rule) return rule.all.every((r) => holds(r, p));
  if ('any' in rule) return rule.any.some((r) => holds(r, p));
  if ('not' in rule) return !holds(rule.not, p);
  if ('tag' in rule) return (Array.isArray(rule.tag) ? rule.tag : [rule.tag]).some((t) => p.tags.includes(t));
  if ('consent' in rule) {
    const state = p.consent[rule.consent as 'marketing'];
    return rule.state === 'none' ? state === undefined : state === rule.state;
  }
  if ('locale' in rule) {
    const list = Array.isArray(rule.locale) ? rule.locale : [rule.locale];
    return p.locale !== null && list.some((l) => (l.includes('-') ? p.locale === l : p.locale === l || p.locale!.startsWith(`${l}-`)));
  }
  if ('time_zone' in rule) return p.timeZone !== null && (Array.isArray(rule.time_zone) ? rule.time_zone : [rule.time_zone]).includes(p.timeZone);
  if ('activity' in rule) {
    const at = { read: p.lastRead, reply: p.lastReply, click: p.lastClick }[rule.activity];
    const since = NOW - (rule.days ?? 0) * DAY;
    if (rule.op === 'ever') return at !== null;
    if (rule.op === 'never') return at === null;
    if (rule.op === 'within_days') return at !== null && at >= since;
    return at !== null && at < since;
  }
  if ('attribute' in rule) {
    const key = rule.attribute as keyof Person['attributes'];
    let stored = p.attributes[key] as number;
    if (stored === undefined) return false;
    let value = rule.value;
    if (key === 'birthday') {
      stored = Date.parse(`${p.attributes.birthday}T00:00:00Z`);
      value = Date.parse(`${value}T00:00:00Z`);
    }
    if (key === 'mobile' && value === '+33 6 12 34 56 78') value = '+33612345678';
    const n = value as number;
    const pair = value as number[];
    const holdsFor: Record<string, () => boolean> = {
      exists: () => true,
      eq: () => stored === value,
      ne: () => stored !== value,
      lt: () => stored < n,
      lte: () => stored <= n,
      gt: () => stored > n,
      gte: () => stored >= n,
      between: () => stored >= pair[0]! && stored <= pair[1]!,
      in: () => (value as unknown[]).includes(stored),
      contains: () => String(stored).toLowerCase().includes(String(value).toLowerCase()),
      starts_with: () => String(stored).toLowerCase().startsWith(String(value).toLowerCase()),
    };
    return holdsFor[rule.op]!();
  }
  throw new Error(`unhandled rule ${JSON.stringify(rule)}`);
}

async function seed(t: TestDatabase, businessId: string, people: Omit<Person, 'id' | 'accountId'>[], prefix: string): Promise<Person[]> {
  const out: Person[] = [];
  await t.db.writeTransaction(async (tx) => {
    for (const [i, p] of people.entries()) {
      const person: Person = { ...p, id: `ct_${prefix}${String(i).padStart(4, '0')}`, accountId: `acc_${prefix}${i}` };
      out.push(person);
      await tx
        .insertInto('contacts')
        .values({
          id: person.id,
          business_id: businessId,
          account_id: person.accountId,
          external_id: null,
          name: null,
          locale: p.locale,
          time_zone: p.timeZone,
          source: 'import',
          created_at: NOW,
          updated_at: NOW,
          erased_at: p.erased ? NOW : null,
          last_inbound_at: p.lastReply,
          last_read_at: p.lastRead,
          last_clicked_at: p.lastClick,
        })
        .execute();
      for (const tag of p.tags) await tx.insertInto('contact_tags').values({ business_id: businessId, contact_id: person.id, tag, created_at: NOW }).execute();
      for (const [key, value] of Object.entries(p.attributes)) {
        if (value === undefined) continue;
        const stored =
          key === 'birthday' ? { text_value: value as string, num_value: Date.parse(`${value}T00:00:00Z`) } : typeof value === 'string' ? { text_value: value, num_value: null } : { text_value: null, num_value: value === true ? 1 : value === false ? 0 : (value as number) };
        await tx.insertInto('contact_attributes').values({ business_id: businessId, contact_id: person.id, key, ...stored }).execute();
      }
      for (const [purpose, state] of Object.entries(p.consent)) {
        if (state === undefined) continue;
        await tx.insertInto('consent_state').values({ business_id: businessId, account_id: person.accountId, purpose, state, since: NOW, source: 'import', event_id: `ce_${person.id}_${purpose}` }).execute();
      }
    }
  });
  return out;
}

onEachDatabase('segments compile to SQL', (dialect) => {
  let t: TestDatabase;
  let people: Person[];
  const segments = () => createSegments({ db: t.db, clock: () => NOW, attributeTypes: async () => DEFS });
  const actor = { businessId: 'biz_a', businessHandle: 'biz_a', accountId: 'biz_a', role: 'owner' as const, principal: {} as never };

  before(async () => {
    t = await openTestDatabase(dialect);
    const sample = fc.sample(personArb, { numRuns: 60, seed: 42 });
    people = await seed(t, 'biz_a', sample, 'a');
    // Another business's contacts, identical, must never appear.
    await seed(t, 'biz_b', sample, 'b');
  });
  after(async () => {
    await t.close();
  });

  test('random rules select exactly the contacts the reference reading selects', async () => {
    const live = people.filter((p) => !p.erased);
    const service = segments();
    await fc.assert(
      fc.asyncProperty(ruleArb, async (rule) => {
        const expected = live.filter((p) => holds(rule, p)).map((p) => p.id);
        const page = await service.audiencePage({ businessId: 'biz_a', rule, limit: 5000 });
        assert.deepEqual(
          page.contacts.map((c) => c.contactId),
          expected,
          JSON.stringify(rule),
        );
        assert.equal((await service.count(actor, rule)).count, expected.length);
      }),
      { numRuns: dialect === 'sqlite' ? 300 : 120 },
    );
  });

  test('paging an audience by contact id visits each matching contact once, in order', async () => {
    const service = segments();
    const rule: SegmentRule = { any: [{ tag: 'vip' }, { not: { consent: 'marketing', state: 'opted_out' } }] };
    const expected = people.filter((p) => !p.erased && holds(rule, p)).map((p) => p.id);
    assert.ok(expected.length > 14, `${expected.length} matching contacts`);
    const seen: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await service.audiencePage({ businessId: 'biz_a', rule, afterContactId: after, limit: 7 });
      assert.ok(page.contacts.length <= 7);
      seen.push(...page.contacts.map((c) => c.contactId));
      after = page.next;
      pages += 1;
    } while (after !== null);
    assert.deepEqual(seen, expected);
    assert.equal(pages, Math.floor(expected.length / 7) + 1);
  });

  test("a saved segment counts and pages like its rule; another business's id is not found", async () => {
    const service = segments();
    const rule: SegmentRule = { all: [{ tag: ['vip', 'new'] }, { attribute: 'spend', op: 'gte', value: 10 }] };
    const saved = await service.create(actor, { name: 'Big spenders', rule });
    const expected = people.filter((p) => !p.erased && holds(rule, p)).length;
    assert.equal((await service.countSaved(actor, saved.id)).count, expected);
    assert.equal((await service.audiencePage({ businessId: 'biz_a', segmentId: saved.id })).contacts.length, expected);
    await assert.rejects(service.countSaved({ ...actor, businessId: 'biz_b' }, saved.id), (err: AppError) => err.code === 'not_found');
    await assert.rejects(service.audiencePage({ businessId: 'biz_b', segmentId: saved.id }), (err: AppError) => err.code === 'not_found');
  });
});
