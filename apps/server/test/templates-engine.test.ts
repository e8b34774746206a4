/**
 * The template engine on its own (pure: no server): variables formatted with Intl in the
 * contact's locale and time zone, the locale fallback chain, unknown variables refused at save,
 * and a recipient missing a variable failing with a reason, never a blank.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../src/errors.ts';
import { type TemplateContent, type TemplateVersion, checkVersion, chooseVariant, renderTemplate, variablesNeeded } from '../src/templates/index.ts';

function version(variants: Record<string, TemplateContent>, extra: Partial<TemplateVersion> = {}): TemplateVersion {
  const checked = checkVersion({ default_locale: extra.default_locale ?? 'en', variables: extra.variables ?? [], variants });
  return { id: 'tv_1', template_id: 'tp_1', number: 1, state: 'approved', purpose: 'transactional', ...extra, ...checked };
}

function textOf(result: ReturnType<typeof renderTemplate>): string {
  assert.ok(result.ok, `render failed: ${result.ok ? '' : result.reason}`);
  return result.message.text ?? '';
}

describe('template variables', () => {
  const order = version(
    { en: { text: 'Hi {{first_name|there}}, order of {{order_date:date:long}} for {{total:currency:EUR}} ({{count:number}} items)' } },
    { variables: [{ name: 'order_date', type: 'date' }, { name: 'total', type: 'number' }, { name: 'count', type: 'number' }] },
  );
  const variables = { order_date: '2026-03-01', total: 1234.5, count: 12000 };

  test('formats dates, amounts and numbers in English, French and German', () => {
    assert.equal(textOf(renderTemplate({ version: order, variables, contact: { first_name: 'Ann', locale: 'en-US' } })), 'Hi Ann, order of March 1, 2026 for €1,234.50 (12,000 items)');
    // French groups with a narrow no-break space and puts the euro sign after the amount.
    assert.equal(textOf(renderTemplate({ version: order, variables, contact: { first_name: 'Zoé', locale: 'fr-FR' } })), 'Hi Zoé, order of 1 mars 2026 for 1\u202f234,50\u00a0€ (12\u202f000 items)');
    assert.equal(textOf(renderTemplate({ version: order, variables, contact: { first_name: 'Jörg', locale: 'de-DE' } })), 'Hi Jörg, order of 1. März 2026 for 1.234,50\u00a0€ (12.000 items)');
  });

  test("a time is shown in the contact's own time zone; a calendar date is the same day everywhere", () => {
    const v = version({ en: { text: '{{at:datetime}} / {{day:date}}' } }, { variables: [{ name: 'at', type: 'datetime' }, { name: 'day', type: 'date' }] });
    const vars = { at: '2026-06-01T23:30:00Z', day: '2026-06-01' };
    assert.equal(textOf(renderTemplate({ version: v, variables: vars, contact: { locale: 'en-GB', time_zone: 'Europe/Paris' } })), '2 Jun 2026, 01:30 / 1 Jun 2026');
    assert.equal(textOf(renderTemplate({ version: v, variables: vars, contact: { locale: 'en-US', time_zone: 'America/Los_Angeles' } })), 'Jun 1, 2026, 4:30 PM / Jun 1, 2026');
    // With no time zone of the contact's own, the caller's (the business default) applies.
    assert.equal(textOf(renderTemplate({ version: v, variables: vars, timeZone: 'Asia/Tokyo', contact: { locale: 'de-DE' } })), '02.06.2026, 08:30 / 01.06.2026');
  });

  test('a default is used when the value is missing or blank; otherwise the render fails naming the variable', () => {
    const v = version({ en: { text: 'Hello {{first_name}}, from {{city|your town}}' } }, { variables: [{ name: 'city' }] });
    assert.equal(textOf(renderTemplate({ version: v, contact: { first_name: 'Ann' }, variables: { city: '  ' } })), 'Hello Ann, from your town');
    const missing = renderTemplate({ version: v, contact: { first_name: '' } });
    assert.deepEqual(missing, { ok: false, code: 'missing_variable', reason: 'missing variable first_name' });
    // A declared default fills in too.
    const withDefault = version({ en: { text: 'Hi {{nick}}' } }, { variables: [{ name: 'nick', default: 'friend' }] });
    assert.equal(textOf(renderTemplate({ version: withDefault })), 'Hi friend');
  });

  test('a value of the wrong kind fails the recipient with a reason', () => {
    const bad = renderTemplate({ version: order, variables: { ...variables, total: 'a lot' }, contact: { first_name: 'Ann' } });
    assert.deepEqual(bad, { ok: false, code: 'invalid_value', reason: 'variable total is not a number' });
    const badDate = renderTemplate({ version: order, variables: { ...variables, order_date: '01/03/2026' }, contact: { first_name: 'Ann' } });
    assert.equal(badDate.ok, false);
    assert.match(badDate.ok ? '' : badDate.reason, /order_date is not a date/);
  });

  test('attributes of the contact fill declared variables; given variables win', () => {
    const v = version({ en: { text: '{{plan}} plan' } }, { variables: [{ name: 'plan' }] });
    assert.equal(textOf(renderTemplate({ version: v, contact: { attributes: { plan: 'Gold' } } })), 'Gold plan');
    assert.equal(textOf(renderTemplate({ version: v, variables: { plan: 'Silver' }, contact: { attributes: { plan: 'Gold' } } })), 'Silver plan');
  });

  test('a version says which declared variables each recipient must bring', () => {
    const v = version(
      { en: { text: '{{first_name}} {{code}} {{city|here}} {{plan}}', buttons: [[{ type: 'url', text: '{{label}}', url: 'https://x.example/{{sku}}' }]] }, fr: { text: '{{city}}' } },
      { variables: [{ name: 'code' }, { name: 'city' }, { name: 'plan', default: 'basic' }, { name: 'label' }, { name: 'sku' }] },
    );
    // first_name is a contact field; plan has a declared default; city has none in the fr text.
    assert.deepEqual(variablesNeeded(v), ['city', 'code', 'label', 'sku']);
  });

  test('only approved versions render for sending; drafts render for previews', () => {
    const draft = { ...version({ en: { text: 'hi' } }), state: 'draft' as const, number: 3 };
    assert.deepEqual(renderTemplate({ version: draft }), { ok: false, code: 'not_approved', reason: 'template version 3 is a draft: only approved versions are sent' });
    assert.equal(textOf(renderTemplate({ version: draft, allowDraft: true })), 'hi');
  });
});

describe('locale variants', () => {
  const v = version({ en: { text: 'Hello' }, fr: { text: 'Bonjour' }, 'fr-CA': { text: 'Allô' }, 'de-AT': { text: 'Servus' } });

  test('falls back fr-CA → fr → the default locale', () => {
    assert.equal(textOf(renderTemplate({ version: v, contact: { locale: 'fr-CA' } })), 'Allô');
    assert.equal(textOf(renderTemplate({ version: v, contact: { locale: 'fr-BE' } })), 'Bonjour');
    assert.equal(textOf(renderTemplate({ version: v, contact: { locale: 'fr' } })), 'Bonjour');
    assert.equal(textOf(renderTemplate({ version: v, contact: { locale: 'ja-JP' } })), 'Hello');
    assert.equal(textOf(renderTemplate({ version: v, contact: {} })), 'Hello');
    // No de variant: a sibling of the same language is closer than the default.
    assert.equal(textOf(renderTemplate({ version: v, contact: { locale: 'de-DE' } })), 'Servus');
  });

  test("the contact's locale wins over the caller's, and an invalid one falls back", () => {
    assert.equal(textOf(renderTemplate({ version: v, locale: 'fr', contact: { locale: 'en-GB' } })), 'Hello');
    assert.equal(textOf(renderTemplate({ version: v, locale: 'fr', contact: { locale: 'not a locale!' } })), 'Bonjour');
    assert.equal(chooseVariant({ en: 1, 'zh-Hant': 1 }, 'zh-Hant-TW', 'en'), 'zh-Hant');
  });
});

describe('checking a version at save', () => {
  const refuses = (fn: () => unknown, code: string, pattern: RegExp) =>
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof AppError);
      assert.equal(err.code, code);
      assert.match(err.message, pattern);
      return true;
    });

  test('refuses unknown variables, naming each of them', () => {
    refuses(() => checkVersion({ default_locale: 'en', variables: [{ name: 'total' }], variants: { en: { text: 'Hi {{first_name}}, {{totl}} and {{coupon}}' } } }), 'unknown_variables', /unknown variables: totl, coupon/);
    // Unknown in a button label too.
    refuses(() => checkVersion({ default_locale: 'en', variables: [], variants: { en: { text: 'x', buttons: [[{ type: 'reply', text: 'Yes {{nme}}' }]] } } }), 'unknown_variables', /nme/);
  });

  test('refuses placeholders that do not parse and formats it does not know', () => {
    refuses(() => checkVersion({ default_locale: 'en', variables: [{ name: 't' }], variants: { en: { text: '{{t:currency}} {{t:money}} {{first_name' } } }), 'validation_failed', /ISO 4217.*unknown format "money".*unclosed/);
  });

  test('refuses http URLs, a variable in a URL host and a phone number that is not one', () => {
    refuses(
      () =>
        checkVersion({
          default_locale: 'en',
          variables: [{ name: 'host' }],
          variants: { en: { text: 'x', buttons: [[{ type: 'url', text: 'a', url: 'http://shop.example/' }, { type: 'url', text: 'b', url: 'https://{{host}}/x' }, { type: 'call', text: 'c', phone: '12' }]] } },
        }),
      'validation_failed',
      /buttons\/0\/0\/url.*https.*buttons\/0\/1\/url.*host has no variables.*buttons\/0\/2\/phone/,
    );
  });

  test("reuses the interactive capability's limits (a button label too long once filled in)", () => {
    refuses(
      () => checkVersion({ default_locale: 'en', variables: [{ name: 'long', example: 'x'.repeat(80) }], variants: { en: { text: 'x', buttons: [[{ type: 'reply', text: '{{long}}' }]] } } }),
      'validation_failed',
      /button text: at most 64/,
    );
  });

  test('the default locale needs a variant; locales are stored canonical; phone numbers E.164', () => {
    refuses(() => checkVersion({ default_locale: 'de', variables: [], variants: { en: { text: 'x' } } }), 'validation_failed', /default locale de needs a variant/);
    const ok = checkVersion({ default_locale: 'EN-us', variables: [], variants: { 'en-us': { text: 'x', buttons: [[{ type: 'call', text: 'Call us', phone: '+1 (415) 555-2671' }]] } } });
    assert.equal(ok.default_locale, 'en-US');
    assert.deepEqual(Object.keys(ok.variants), ['en-US']);
    assert.deepEqual(ok.variants['en-US']!.buttons, [[{ type: 'call', text: 'Call us', phone: '+14155552671' }]]);
  });
});

describe('buttons and media', () => {
  const v = version(
    {
      en: {
        text: 'Your order {{order_id}}',
        header: { media_id: 'med_header' },
        buttons: [[{ type: 'url', text: 'Track', url: 'https://shop.example/orders/{{order_id}}?src=mmd' }, { type: 'call', text: 'Call', phone: '+33 6 12 34 56 78' }, { type: 'reply', text: 'Thanks {{first_name}}' }]],
      },
    },
    { variables: [{ name: 'order_id' }] },
  );

  test('url values are percent-encoded; with a link maker url and call buttons become tracked links', () => {
    const refs: unknown[] = [];
    const result = renderTemplate({
      version: v,
      variables: { order_id: 'A/../../evil?x=1' },
      contact: { id: 'ct_1', first_name: 'Ann' },
      links: (ref) => {
        refs.push(ref);
        return `https://mmd.example/r/${refs.length}`;
      },
    });
    assert.ok(result.ok);
    assert.deepEqual(result.message.media, ['med_header']);
    assert.deepEqual(result.message.interactive?.buttons, [
      [
        { type: 'url', text: 'Track', url: 'https://mmd.example/r/1' },
        { type: 'url', text: 'Call', url: 'https://mmd.example/r/2' },
        { type: 'reply', text: 'Thanks Ann' },
      ],
    ]);
    assert.deepEqual(refs, [
      { versionId: 'tv_1', locale: 'en', button: 'b0.0', kind: 'url', target: 'https://shop.example/orders/A%2F..%2F..%2Fevil%3Fx%3D1?src=mmd', contactId: 'ct_1' },
      { versionId: 'tv_1', locale: 'en', button: 'b0.1', kind: 'call', target: null, contactId: 'ct_1' },
    ]);
  });

  test('without a link maker, the URL goes as it is and a call button copies the number', () => {
    const result = renderTemplate({ version: v, variables: { order_id: '42' }, contact: { first_name: 'Ann' } });
    assert.ok(result.ok);
    assert.deepEqual(result.message.interactive?.buttons?.[0]?.slice(0, 2), [
      { type: 'url', text: 'Track', url: 'https://shop.example/orders/42?src=mmd' },
      { type: 'copy', text: 'Call', copy_text: '+33612345678' },
    ]);
  });

  test('a personalised header comes back as a spec with its text filled in', () => {
    const p = version(
      { en: { text: 'Your offer', header: { personalised: { base_media_id: 'med_base', layers: [{ type: 'text', text: '{{first_name}}: {{price:currency:USD}}', x: 10, y: 20, font_size: 40 }] } } } },
      { variables: [{ name: 'price', type: 'number' }] },
    );
    const result = renderTemplate({ version: p, variables: { price: 9.99 }, contact: { first_name: 'Ann', locale: 'en-US' } });
    assert.ok(result.ok);
    assert.deepEqual(result.media_spec, { base_media_id: 'med_base', layers: [{ type: 'text', text: 'Ann: $9.99', x: 10, y: 20, font_size: 40 }] });
    assert.equal(result.message.media, undefined);
  });

  test('polls, lists and forms get their variables filled in', () => {
    const poll = version({ en: { poll: { question: 'How was {{product}}, {{first_name}}?', options: ['Great', 'Meh'] } } }, { variables: [{ name: 'product' }] });
    const result = renderTemplate({ version: poll, variables: { product: 'the blender' }, contact: { first_name: 'Ann' } });
    assert.ok(result.ok);
    assert.equal(result.message.interactive?.poll?.question, 'How was the blender, Ann?');
  });
});
