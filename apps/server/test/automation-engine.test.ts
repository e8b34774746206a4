/**
 * Automation's pure parts: business hours across daylight-saving changes, keyword and pattern
 * matching (RE2: no catastrophic backtracking), placeholders, and the order of a plan.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { BusinessHours, Rule } from '@mmd/contracts';
import { DEFAULT_SETTINGS, type StoredSettings, plan, render, unknownPlaceholders } from '../src/automation/engine.ts';
import { hoursProblems, isOpen, isValidTimeZone, localTime } from '../src/automation/hours.ts';
import { matchesKeywords, matchesPattern, patternProblem } from '../src/automation/pattern.ts';
import { createSecretBox } from '../src/automation/secret-box.ts';

const nineToFive = { start: '09:00', end: '17:00' };
const berlin: BusinessHours = {
  timezone: 'Europe/Berlin',
  weekly: { mon: [nineToFive], tue: [nineToFive], wed: [nineToFive], thu: [nineToFive], fri: [nineToFive], sat: [nineToFive], sun: [nineToFive] },
};

describe('business hours', () => {
  test('follows the time zone across the spring daylight-saving change', () => {
    // Berlin moves from CET (+1) to CEST (+2) at 01:00 UTC on Sunday 29 March 2026.
    assert.equal(isOpen(berlin, Date.parse('2026-03-28T07:30:00Z')), false, 'Saturday 08:30 CET: closed');
    assert.equal(isOpen(berlin, Date.parse('2026-03-28T08:30:00Z')), true, 'Saturday 09:30 CET: open');
    assert.equal(isOpen(berlin, Date.parse('2026-03-29T07:30:00Z')), true, 'Sunday 09:30 CEST: open (a fixed +1 offset would say 08:30, closed)');
    assert.equal(isOpen(berlin, Date.parse('2026-03-29T15:30:00Z')), false, 'Sunday 17:30 CEST: closed');
    assert.deepEqual(localTime(Date.parse('2026-03-29T00:59:00Z'), 'Europe/Berlin').time, '01:59');
    assert.deepEqual(localTime(Date.parse('2026-03-29T01:00:00Z'), 'Europe/Berlin').time, '03:00', 'the skipped hour does not exist');
  });

  test('follows the time zone across the autumn change and on the far side of the date line', () => {
    // New York: EDT (-4) until 06:00 UTC on Sunday 1 November 2026, then EST (-5).
    const ny: BusinessHours = { timezone: 'America/New_York', weekly: { sun: [{ start: '08:00', end: '12:00' }] } };
    assert.equal(isOpen(ny, Date.parse('2026-11-01T12:30:00Z')), false, '07:30 EST: closed (EDT would say 08:30)');
    assert.equal(isOpen(ny, Date.parse('2026-11-01T13:30:00Z')), true, '08:30 EST: open');
    const auckland: BusinessHours = { timezone: 'Pacific/Auckland', weekly: { mon: [{ start: '00:00', end: '24:00' }] } };
    assert.equal(isOpen(auckland, Date.parse('2026-12-06T12:00:00Z')), true, 'Sunday noon UTC is Monday in Auckland');
  });

  test('refuses unknown zones and ranges that end before they start', () => {
    assert.equal(isValidTimeZone('Europe/Berlin'), true);
    assert.equal(isValidTimeZone('Mars/Olympus_Mons'), false);
    assert.equal(isValidTimeZone('../etc'), false);
    const problems = hoursProblems({ timezone: 'Nowhere/Land', weekly: { mon: [{ start: '18:00', end: '09:00' }] } });
    assert.deepEqual(problems.map((p) => p.path), ['/hours/timezone', '/hours/weekly/mon/0']);
  });
});

describe('matching', () => {
  test('keywords match whole words, ignoring case and width', () => {
    assert.equal(matchesKeywords('What is the PRICE?', ['price']), true);
    assert.equal(matchesKeywords('priceless', ['price']), false);
    assert.equal(matchesKeywords('opening hours please', ['opening hours']), true);
    assert.equal(matchesKeywords('Ｐｒｉｃｅ', ['price']), true, 'full-width letters are normalised (NFKC)');
  });

  test('patterns run in linear time: a classic catastrophic pattern returns at once', () => {
    const evil = `${'a'.repeat(4000)}!`; // backtracking engines take longer than the universe's age here
    assert.equal(matchesPattern(evil, '^(a+)+$', false), false);
    assert.equal(matchesPattern('order #12345', 'order\\s*#?\\d{5}', false), true);
    assert.equal(matchesPattern('ORDER 12345', 'order \\d+', true), false, 'case-sensitive when asked');
  });

  test('any pattern a business types is either refused with a reason or runs on any text without throwing', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 40, unit: fc.constantFrom('a', 'b', '(', ')', '[', ']', '*', '+', '?', '{', '}', '\\', '|', '^', '$', '.', '1', ',', 'P', '<', '>', '=', '!', ':', '-') }), fc.string({ maxLength: 200 }), (pattern, text) => {
        const problem = patternProblem(pattern);
        if (problem === null) {
          matchesPattern(text, pattern, false);
          matchesPattern(text, pattern, true);
        } else assert.equal(typeof problem, 'string');
      }),
      { numRuns: 500, seed: 20261205 },
    );
  });

  test('refuses what RE2 cannot run in linear time', () => {
    assert.match(patternProblem('(a)\\1') ?? '', /invalid escape/);
    assert.ok(patternProblem('(?=a)b'));
    assert.equal(patternProblem('[a-z]+'), null);
  });
});

describe('plans', () => {
  const rule = (id: string, over: Partial<Rule>): Rule => ({ id, name: id, enabled: true, position: 0, trigger: { type: 'first_message' }, actions: [], created_at: 0, updated_at: 0, ...over });
  const settings = (over: Partial<StoredSettings>): StoredSettings => ({ ...DEFAULT_SETTINGS, ...over });
  const base = { templates: new Map(), firstMessage: false, at: Date.parse('2026-03-28T07:30:00Z'), awayRecentlySent: false, vars: { handle: 'ann', business: 'shop' } };

  test('fills placeholders and names unknown ones', () => {
    assert.equal(render('Hi {{handle}}, {{ business }} here. {{other}}', { handle: 'ann', business: 'shop' }), 'Hi ann, shop here. {{other}}');
    assert.deepEqual(unknownPlaceholders('{{handle}} {{name}} {{ time }}'), ['name']);
  });

  test('a request for a person ends the plan; otherwise greeting, away, then the first matching rule', () => {
    const s = settings({ hours: berlin, greeting: { enabled: true, text: 'Welcome {{handle}}' }, away: { enabled: true, text: 'Closed until {{time}}' } });
    const rules = [rule('r1', { trigger: { type: 'keywords', keywords: ['price'] }, actions: [{ type: 'reply', text: 'Ten euros' }, { type: 'tag', tag: 'sales' }] }), rule('r2', { trigger: { type: 'pattern', pattern: '.*' }, actions: [{ type: 'reply', text: 'never' }] })];
    const handover = plan({ ...base, settings: s, rules, text: 'I want a human', firstMessage: true });
    assert.deepEqual(handover.steps.map((x) => x.type), ['send', 'handover']);
    const p = plan({ ...base, settings: s, rules, text: 'price?', firstMessage: true });
    assert.equal(p.outsideHours, true);
    assert.deepEqual(p.rule, { id: 'r1', name: 'r1' });
    assert.deepEqual(
      p.steps.map((x) => (x.type === 'send' ? `${x.source}:${x.text}` : x.type)),
      ['greeting:Welcome ann', 'away:Closed until 08:30', 'rule:Ten euros', 'tag'],
    );
    const noAwayAgain = plan({ ...base, settings: s, rules, text: 'price?', awayRecentlySent: true });
    assert.deepEqual(noAwayAgain.steps.map((x) => x.type), ['send', 'tag']);
  });

  test('the assistant answers only where no rule matched', () => {
    const s = settings({ assistant: { enabled: true, url: 'http://x', model: 'm', system_prompt: null, context_messages: 5 } });
    assert.deepEqual(plan({ ...base, settings: s, rules: [], text: 'hello' }).steps, [{ type: 'assistant' }]);
    const rules = [rule('r1', { trigger: { type: 'keywords', keywords: ['hello'] }, actions: [{ type: 'reply', text: 'hi' }] })];
    assert.equal(plan({ ...base, settings: s, rules, text: 'hello' }).steps.some((x) => x.type === 'assistant'), false);
  });
});

test('sealed secrets open with the same server secret only', () => {
  const box = createSecretBox(Buffer.from('one'));
  const sealed = box.seal('sk-test-123');
  assert.ok(!sealed.includes('sk-test'));
  assert.equal(box.open(sealed), 'sk-test-123');
  assert.throws(() => createSecretBox(Buffer.from('two')).open(sealed));
});
