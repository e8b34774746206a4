/**
 * The consent gate campaigns call before every message. A property-based test drives random
 * ledgers through the real paths (team opt-ins with proof dated in the past, opt-outs, STOP /
 * START / HELP / YES in the person's chat, one-tap unsubscribe, self-service withdrawal, the
 * subscribe page, suppression, erasure, time zone changes and recorded sends) at random times,
 * with random quiet hours, frequency caps and recipient zones, and after every step compares the
 * gate with a model written here from the rules alone: no marketing passes without current
 * consent, and quiet hours hold in the recipient's own zone (checked with Intl, not luxon).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_BUSINESS_SETTINGS, type BusinessSettings } from '@mmd/contracts';
import { decideGate, quietHoursEnd } from '../src/contacts/index.ts';
import { type TestServer, type User, newBusinessTeam, onEachDatabase, startTestServer } from './harness.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Local minutes since midnight in `zone`, by Intl (independent of the server's luxon). */
function localMinutes(t: number, zone: string): number {
  const parts = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(t);
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return get('hour') * 60 + get('minute');
}
const clockMinutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
function inQuiet(t: number, zone: string, quiet: { start: string; end: string } | null): boolean {
  if (!quiet) return false;
  const m = localMinutes(t, zone);
  const s = clockMinutes(quiet.start);
  const e = clockMinutes(quiet.end);
  return s < e ? m >= s && m < e : m >= s || m < e;
}

describe('quiet hours, in the recipient’s zone', () => {
  const quiet = { start: '21:00', end: '08:00' };
  test('22:30 in Paris waits until 08:00 Paris time the next morning; 12:00 does not wait', () => {
    const at = Date.parse('2026-06-01T20:30:00Z'); // 22:30 in Paris (UTC+2)
    assert.equal(quietHoursEnd(at, 'Europe/Paris', quiet), Date.parse('2026-06-02T06:00:00Z'));
    assert.equal(quietHoursEnd(Date.parse('2026-06-01T10:00:00Z'), 'Europe/Paris', quiet), null);
  });
  test('the same instant is quiet in Tokyo and not in New York', () => {
    const at = Date.parse('2026-06-01T14:00:00Z'); // 23:00 Tokyo, 10:00 New York
    assert.equal(quietHoursEnd(at, 'Asia/Tokyo', quiet), Date.parse('2026-06-01T23:00:00Z'));
    assert.equal(quietHoursEnd(at, 'America/New_York', quiet), null);
  });
  test('early morning waits until the same morning; across the spring-forward night the end is still 08:00 local', () => {
    assert.equal(quietHoursEnd(Date.parse('2026-06-01T03:00:00Z'), 'Europe/Paris', quiet), Date.parse('2026-06-01T06:00:00Z'));
    // 29 March 2026: Paris moves from UTC+1 to UTC+2 at 02:00.
    assert.equal(quietHoursEnd(Date.parse('2026-03-28T22:00:00Z'), 'Europe/Paris', quiet), Date.parse('2026-03-29T06:00:00Z'));
  });
  test('a range within one day (12:00–14:00) and no quiet hours at all', () => {
    assert.equal(quietHoursEnd(Date.parse('2026-06-01T12:30:00Z'), 'UTC', { start: '12:00', end: '14:00' }), Date.parse('2026-06-01T14:00:00Z'));
    assert.equal(quietHoursEnd(Date.parse('2026-06-01T22:30:00Z'), 'UTC', null), null);
  });
  test('transactional skips quiet hours and caps but never reaches an erased contact', () => {
    const base = { at: Date.parse('2026-06-01T23:00:00Z'), suppressed: true, consent: null, quietHours: quiet, defaultTimeZone: 'UTC', cap: { max: 0, days: 7 }, sends: [] };
    assert.deepEqual(decideGate({ ...base, purpose: 'transactional', contact: { erased: false, timeZone: null } }), { ok: true });
    assert.equal(decideGate({ ...base, purpose: 'transactional', contact: { erased: true, timeZone: null } }).ok, false);
  });
  test('a full frequency cap frees a slot when the oldest send in the window leaves it', () => {
    const at = Date.parse('2026-06-10T12:00:00Z');
    const sends = [at - 6 * DAY, at - 2 * DAY];
    const verdict = decideGate({ purpose: 'marketing', at, contact: { erased: false, timeZone: 'UTC' }, suppressed: false, consent: 'opted_in', quietHours: null, defaultTimeZone: 'UTC', cap: { max: 2, days: 7 }, sends });
    assert.deepEqual(verdict.ok ? null : [verdict.reason, verdict.retryAt], ['frequency_cap', at + DAY]);
  });
});

// The model: the rules, written again from the spec.
type Purpose = 'marketing' | 'surveys';
type Op =
  | { kind: 'import'; purpose: Purpose; ago: number }
  | { kind: 'optout'; purpose: Purpose }
  | { kind: 'message'; text: string }
  | { kind: 'unsubscribe' }
  | { kind: 'withdraw'; purpose: Purpose }
  | { kind: 'suppress' }
  | { kind: 'unsuppress' }
  | { kind: 'erase' }
  | { kind: 'zone'; zone: string }
  | { kind: 'subscribe'; purposes: Purpose[] }
  | { kind: 'send' };

const STOP_WORDS = new Set(['STOP', 'ARRET', 'BAJA', 'STOPP', 'SAIR', 'UNSUBSCRIBE']);
const START_WORDS = new Set(['START', 'ALTA', 'ANMELDEN', 'INICIAR']);
const YES_WORDS = new Set(['YES', 'OUI']);
const TEXTS = ['STOP', 'stop', 'Arrêt', 'BAJA', 'Stopp!', 'SAIR', 'unsubscribe', 'START', 'alta', 'ANMELDEN', 'Iniciar', 'HELP', 'aide', 'YES', 'oui', 'hello there', 'please stop'];
const norm = (t: string) => t.normalize('NFD').replace(/\p{M}/gu, '').trim().replace(/[.!]+$/, '').toUpperCase();
const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Tokyo', 'Australia/Sydney', 'Asia/Kolkata', 'America/St_Johns', 'Pacific/Chatham', 'Europe/London'];
const TTL = 7 * DAY;

class Model {
  /** `persons`: the person acted (STOP, START, YES, links, settings, erasure), not the business (API, import). */
  events: { purpose: string; action: 'opt_in' | 'opt_out'; at: number; idx: number; persons: boolean }[] = [];
  suppressed: null | 'manual' | 'erased' = null;
  erased = false;
  zone: string | null;
  pending = new Map<string, number>();
  sends: number[] = [];
  private n = 0;
  constructor(zone: string) {
    this.zone = zone;
  }
  add(purpose: string, action: 'opt_in' | 'opt_out', at: number, persons: boolean) {
    this.events.push({ purpose, action, at, idx: this.n++, persons });
  }
  /** Replayed in time order; the business's opt-in never undoes the person's own opt-out. */
  private replay(purpose: string): { state: 'opted_in' | 'opted_out' | null; locked: boolean } {
    const ordered = this.events.filter((e) => e.purpose === purpose).sort((a, b) => a.at - b.at || a.idx - b.idx);
    let state: 'opted_in' | 'opted_out' | null = null;
    let locked = false;
    for (const e of ordered) {
      if (e.action === 'opt_out') {
        state = 'opted_out';
        locked ||= e.persons;
      } else if (e.persons || !locked) {
        state = 'opted_in';
        locked = false;
      }
    }
    return { state, locked };
  }
  state(purpose: string): 'opted_in' | 'opted_out' | null {
    return this.replay(purpose).state;
  }
  personOptedOut(purpose: string): boolean {
    return this.replay(purpose).locked;
  }
  purposes(): string[] {
    return [...new Set(this.events.map((e) => e.purpose))].sort();
  }
  message(text: string, now: number) {
    this.erased = false;
    for (const p of ['support', 'transactional']) if (!this.events.some((e) => e.purpose === p)) this.add(p, 'opt_in', now, true);
    const word = norm(text);
    if (YES_WORDS.has(word)) {
      for (const [p, requested] of [...this.pending].sort()) {
        if (now < requested + TTL) this.add(p, 'opt_in', now, true);
      }
      this.pending.clear();
    } else if (STOP_WORDS.has(word)) {
      const purposes = new Set(['marketing', ...this.purposes().filter((p) => this.state(p) === 'opted_in')]);
      purposes.delete('support');
      purposes.delete('transactional');
      for (const p of [...purposes].sort()) if (!this.personOptedOut(p)) this.add(p, 'opt_out', now, true);
    } else if (START_WORDS.has(word)) {
      this.add('marketing', 'opt_in', now, true);
    }
  }
  gate(purpose: string, t: number, settings: BusinessSettings): { ok: true } | { ok: false; reason: string; quietZone?: string } {
    if (this.erased) return { ok: false, reason: 'erased' };
    if (purpose === 'transactional') return { ok: true };
    if (this.suppressed) return { ok: false, reason: 'suppressed' };
    if (this.state(purpose) !== 'opted_in') return { ok: false, reason: 'no_consent' };
    const zone = this.zone ?? settings.default_time_zone;
    if (inQuiet(t, zone, settings.quiet_hours)) return { ok: false, reason: 'quiet_hours', quietZone: zone };
    const cap = settings.frequency_caps[purpose];
    if (cap && this.sends.filter((s) => s > t - cap.days * DAY && s <= t).length >= cap.max) return { ok: false, reason: 'frequency_cap' };
    return { ok: true };
  }
}

const purposeArb = fc.constantFrom<Purpose>('marketing', 'surveys');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('import' as const), purpose: purposeArb, ago: fc.integer({ min: 0, max: 30 * DAY }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('optout' as const), purpose: purposeArb }) },
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('message' as const), text: fc.constantFrom(...TEXTS) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unsubscribe' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('withdraw' as const), purpose: purposeArb }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'suppress' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'unsuppress' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'erase' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('zone' as const), zone: fc.constantFrom(...ZONES) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('subscribe' as const), purposes: fc.uniqueArray(purposeArb, { minLength: 1, maxLength: 2 }) }) },
  { weight: 3, arbitrary: fc.constant({ kind: 'send' as const }) },
);
const quietArb = fc.option(
  fc.record({ start: fc.constantFrom('20:00', '21:00', '22:30', '12:00'), end: fc.constantFrom('06:00', '07:30', '08:00', '14:00') }),
  { nil: null },
);
const runArb = fc.record({
  zone: fc.constantFrom(...ZONES),
  quiet: quietArb,
  cap: fc.option(fc.record({ max: fc.integer({ min: 0, max: 3 }), days: fc.integer({ min: 1, max: 7 }) }), { nil: null }),
  steps: fc.array(fc.record({ op: opArb, advance: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: DAY })), check: fc.integer({ min: 0, max: 2 * DAY }) }), { minLength: 1, maxLength: 12 }),
});

onEachDatabase('the consent gate over random ledgers', (dialect) => {
  const BASE = Date.parse('2026-03-01T00:00:00Z');
  let now = BASE;
  let server: TestServer;
  let business: User;
  before(async () => {
    server = await startTestServer({ dialect, clock: () => now });
    business = (await newBusinessTeam(server)).business;
  });
  after(() => server.close());

  test('no marketing passes without current consent, suppression and erasure hold, quiet hours hold in the recipient’s zone, caps count', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(runArb, async (run) => {
        runs += 1;
        now = BASE;
        const settings: BusinessSettings = { ...DEFAULT_BUSINESS_SETTINGS, quiet_hours: run.quiet, frequency_caps: run.cap ? { marketing: run.cap } : {} };
        const person = await server.signUp();
        const contact = await business.client.contacts.create({ handle: person.handle, time_zone: run.zone });
        const chat = await person.client.openDirect(business.handle);
        const token = server.services.contacts.people.unsubscribeToken({ businessId: business.accountId, accountId: person.accountId, purpose: 'marketing' });
        const model = new Model(run.zone);
        const c = business.client.contacts;
        const refused = async (p: Promise<unknown>, code: string) => {
          await assert.rejects(p, (err: { code?: string }) => err.code === code);
        };
        for (const [i, step] of run.steps.entries()) {
          now += step.advance;
          const op = step.op;
          switch (op.kind) {
            case 'import':
              if (model.erased) await refused(c.recordConsent(contact.id, { purpose: op.purpose, action: 'opt_in', proof: { wording: 'Offers and surveys, agreed at the till', at: new Date(now - op.ago).toISOString(), evidence: `form ${i}` } }), 'contact_erased');
              else {
                await c.recordConsent(contact.id, { purpose: op.purpose, action: 'opt_in', proof: { wording: 'Offers and surveys, agreed at the till', at: new Date(now - op.ago).toISOString(), evidence: `form ${i}` } });
                model.add(op.purpose, 'opt_in', now - op.ago, false);
              }
              break;
            case 'optout':
              await c.recordConsent(contact.id, { purpose: op.purpose, action: 'opt_out' });
              model.add(op.purpose, 'opt_out', now, false);
              break;
            case 'message':
              await person.client.send(chat.id, { text: op.text });
              model.message(op.text, now);
              break;
            case 'unsubscribe':
              await server.anonymous.contacts.unsubscribe(token);
              if (!model.personOptedOut('marketing')) model.add('marketing', 'opt_out', now, true);
              break;
            case 'withdraw':
              if (model.state(op.purpose) === null) await refused(person.client.contacts.withdraw(business.accountId, op.purpose), 'not_found');
              else {
                await person.client.contacts.withdraw(business.accountId, op.purpose);
                if (!model.personOptedOut(op.purpose)) model.add(op.purpose, 'opt_out', now, true);
              }
              break;
            case 'suppress':
              await c.suppress({ account_id: person.accountId });
              model.suppressed ??= 'manual';
              break;
            case 'unsuppress':
              if (model.suppressed === null) await refused(c.unsuppress(person.accountId), 'not_found');
              else if (model.suppressed === 'erased') await refused(c.unsuppress(person.accountId), 'forbidden');
              else {
                await c.unsuppress(person.accountId);
                model.suppressed = null;
              }
              break;
            case 'erase': {
              await c.erase(contact.id);
              const purposes = new Set(['marketing', 'surveys', 'support', ...model.purposes()]);
              model.events = model.events.filter((e) => e.action === 'opt_out');
              for (const p of [...purposes].sort()) model.add(p, 'opt_out', now, true);
              model.suppressed = 'erased';
              model.erased = true;
              model.zone = null;
              model.pending.clear();
              model.sends = [];
              break;
            }
            case 'zone':
              if (model.erased) await refused(c.update(contact.id, { time_zone: op.zone }), 'contact_erased');
              else {
                await c.update(contact.id, { time_zone: op.zone });
                model.zone = op.zone;
              }
              break;
            case 'subscribe': {
              const reply = await person.client.contacts.subscribe(business.handle, op.purposes);
              model.erased = false;
              if (model.suppressed === 'erased') model.suppressed = null;
              const expected: string[] = [];
              for (const p of [...op.purposes].sort()) {
                if (model.state(p) === 'opted_in') continue;
                expected.push(p);
                const open = model.pending.get(p);
                const live = open !== undefined && now < open + TTL;
                if (!(live && open > now - MINUTE)) model.pending.set(p, now);
              }
              assert.deepEqual(reply.pending, expected);
              break;
            }
            case 'send': {
              const verdict = await server.services.contacts.gate.check({ businessId: business.accountId, contactId: contact.id, purpose: 'marketing', at: now, settings });
              const expected = model.gate('marketing', now, settings);
              assert.equal(verdict.ok ? 'ok' : verdict.reason, expected.ok ? 'ok' : expected.reason, `send at step ${i}`);
              if (verdict.ok) {
                await server.services.contacts.gate.record({ businessId: business.accountId, contactId: contact.id, purpose: 'marketing', at: now, key: `run${runs}-send${i}` });
                model.sends.push(now);
              }
              break;
            }
            default: {
              const never: never = op;
              throw new Error(`unknown op ${JSON.stringify(never)}`);
            }
          }
          // After every step, at some instant ahead: the gate agrees with the model, purpose by purpose.
          const t = now + step.check;
          for (const purpose of ['marketing', 'surveys', 'transactional']) {
            const verdict = await server.services.contacts.gate.check({ businessId: business.accountId, accountId: person.accountId, purpose, at: t, settings });
            const expected = model.gate(purpose, t, settings);
            const where = `${purpose} after step ${i} (${op.kind}) at ${new Date(t).toISOString()}`;
            assert.equal(verdict.ok ? 'ok' : verdict.reason, expected.ok ? 'ok' : expected.reason, where);
            // A sender's batch answers exactly as one check does.
            const batch = await server.services.contacts.gate.checkMany({ businessId: business.accountId, ids: [contact.id, 'ct_unknown'], purpose, at: t, settings });
            assert.deepEqual(batch.get(contact.id), verdict, `${where}: checkMany`);
            assert.equal((batch.get('ct_unknown') as { reason?: string }).reason, 'not_a_contact');
            if (purpose === 'marketing' && verdict.ok) {
              assert.equal(model.state('marketing'), 'opted_in', `${where}: a marketing message passed without current consent`);
              assert.equal(inQuiet(t, model.zone ?? 'UTC', run.quiet), false, `${where}: passed inside quiet hours`);
            }
            if (!verdict.ok && verdict.reason === 'quiet_hours') {
              const zone = expected.ok ? 'UTC' : (expected.quietZone ?? 'UTC');
              assert.ok(verdict.retryAt && verdict.retryAt > t && verdict.retryAt - t <= DAY + HOUR, `${where}: retryAt within a day`);
              assert.equal(localMinutes(verdict.retryAt, zone), clockMinutes(run.quiet!.end), `${where}: retryAt is the end of quiet hours in ${zone}`);
              assert.equal(inQuiet(verdict.retryAt - MINUTE, zone, run.quiet), true, `${where}: quiet until retryAt`);
            }
          }
        }
        // The derived state the team sees is the model's, purpose by purpose.
        const ledger = await c.consent(contact.id);
        const seen = Object.fromEntries(Object.entries(ledger.state).map(([p, s]) => [p, s.state]));
        const modelled = Object.fromEntries(model.purposes().map((p) => [p, model.state(p)]));
        assert.deepEqual(seen, modelled);
      }),
      { numRuns: dialect === 'sqlite' ? 60 : 30 },
    );
  });
});
