/**
 * Bounds on personalised renders, on both databases (from a hostile review: an analyst's preview
 * of a text layer `{{a}}` at 400 px in a 10,000 px box with a 1,600-character value took ~83 s of
 * CPU and ~1.1 GB, stored a media item, and wider values gave a 500):
 * - a filled-in text layer longer than 300 characters is refused in a preview (422
 *   template_render_failed naming the limit) and cut with an ellipsis for campaigns;
 * - a layer whose drawing would pass the pixel budget is refused before drawing (422, not a 500),
 *   and what is drawn stays inside the budget, with one measuring render instead of a loop;
 * - previews are rate-limited per account and business (429), and new preview renders (each a
 *   stored media item) per business per hour; cached ones still answer.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { CreateMessageTemplateBody } from '@mmd/contracts';
import { type MmdClient, MmdError } from '@mmd/sdk';
import sharp from 'sharp';
import { drawText, layoutText } from '../src/templates/draw.ts';
import { MAX_LAYER_TEXT, type TemplateVersion, renderTemplate } from '../src/templates/render.ts';
import { type TestServer, newBusinessTeam, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

async function refusal(promise: Promise<unknown>): Promise<MmdError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof MmdError, `expected an MmdError, got ${err}`);
    return err;
  }
  assert.fail('expected a refusal');
}

const bomb = (baseId: string): CreateMessageTemplateBody => ({
  name: 'bomb',
  purpose: 'marketing',
  default_locale: 'en',
  variables: [{ name: 'a' }],
  variants: { en: { text: 'hi', header: { personalised: { base_media_id: baseId, layers: [{ type: 'text', text: '{{a}}', x: 0, y: 0, font_size: 400, max_width: 10000, max_lines: 1 }] } } } },
});

onEachDatabase('templates render bounds', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect, config: { publicUrl: 'https://mmd.example', templatePreviewsPerWindow: 4, templatePreviewRendersPerHour: 2 } });
  });
  after(() => server.close());

  async function baseImage(client: MmdClient) {
    const base = await sharp({ create: { width: 800, height: 500, channels: 3, background: '#1d3557' } }).jpeg().toBuffer();
    const id = (await client.upload(base, { filename: 'base.jpg' })).id;
    await client.waitForMedia(id);
    return id;
  }

  async function storedRenders(businessId: string): Promise<number> {
    const row = await server.db.db.selectFrom('template_renders').select((eb) => eb.fn.countAll<number>().as('n')).where('business_id', '=', businessId).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  test('an analyst preview with a 1,600-character value is refused naming the 300-character limit, and stores nothing', async () => {
    const { business, admin, analyst } = await newBusinessTeam(server);
    const t = await admin.acting.createTemplate(bomb(await baseImage(business.client)));
    const err = await refusal(analyst.acting.previewTemplate(t.id, { variables: { a: 'WWW '.repeat(400) } }));
    assert.equal(err.code, 'template_render_failed');
    assert.equal(err.status, 422);
    assert.match(err.message, /text layer 0 is 1600 characters once filled in \(at most 300\)/);
    assert.equal(await storedRenders(admin.acting.business!), 0);
  });

  test('a layer within 300 characters whose drawing would pass the pixel budget is a 422, not a 500, and nothing is stored', async () => {
    const { business, admin, analyst } = await newBusinessTeam(server);
    const t = await admin.acting.createTemplate(bomb(await baseImage(business.client)));
    // 280 characters at 400 px in a 10,000 px box: even at half size, five lines 10,000 px wide.
    const err = await refusal(analyst.acting.previewTemplate(t.id, { variables: { a: 'WWW '.repeat(70) } }));
    assert.equal(err.code, 'template_render_failed');
    assert.equal(err.status, 422);
    assert.match(err.message, /a text layer would be about \d+×\d+ pixels drawn \(at most 1600000 pixels\)/);
    assert.equal(await storedRenders(admin.acting.business!), 0);
  });

  test('previews are limited per account and business; new preview renders per business per hour, cached ones still answer', async () => {
    const { business, admin, analyst, agent } = await newBusinessTeam(server);
    const baseId = await baseImage(business.client);
    const t = await admin.acting.createTemplate({ ...bomb(baseId), variants: { en: { text: 'hi', header: { personalised: { base_media_id: baseId, layers: [{ type: 'text', text: 'Hi {{a}}', x: 20, y: 20, font_size: 40 }] } } } } });
    const ann = await analyst.acting.previewTemplate(t.id, { variables: { a: 'Ann' } });
    assert.equal(ann.media?.personalised, true);
    assert.equal(ann.media?.cached, false);
    await analyst.acting.previewTemplate(t.id, { variables: { a: 'Bob' } });
    // The business's two new renders this hour are spent: a third value is refused, from anyone.
    await rejectsWith(agent.acting.previewTemplate(t.id, { variables: { a: 'Cy' } }), 'rate_limited', 429);
    assert.equal(await storedRenders(admin.acting.business!), 2);
    // Ann again is the cached render: no new item.
    const again = await analyst.acting.previewTemplate(t.id, { variables: { a: 'Ann' } });
    assert.equal(again.media?.id, ann.media?.id);
    assert.equal(again.media?.cached, true);
    // Four previews a window per account and business: the analyst's fifth is refused, the agent still previews.
    await analyst.acting.previewTemplate(t.id, { variables: { a: 'Bob' } });
    await rejectsWith(analyst.acting.previewTemplate(t.id, { variables: { a: 'Ann' } }), 'rate_limited', 429);
    assert.equal((await agent.acting.previewTemplate(t.id, { variables: { a: 'Bob' } })).media?.cached, true);
  });
});

test('a campaign render cuts a filled-in text layer past 300 characters with an ellipsis; a preview refuses it', () => {
  const version: TemplateVersion = {
    id: 'v',
    template_id: 't',
    number: 1,
    state: 'approved',
    purpose: 'marketing',
    default_locale: 'en',
    variables: [{ name: 'a' }],
    variants: { en: { header: { personalised: { base_media_id: 'm', layers: [{ type: 'text', text: 'Hi {{a}}', x: 0, y: 0, font_size: 20 }] } } } },
  };
  const long = 'x'.repeat(2000);
  const sent = renderTemplate({ version, variables: { a: long } });
  assert.ok(sent.ok);
  const layer = sent.media_spec!.layers[0]!;
  assert.equal(layer.type, 'text');
  const text = (layer as { text: string }).text;
  assert.equal([...text].length, MAX_LAYER_TEXT);
  assert.ok(text.startsWith('Hi xxx') && text.endsWith('…'));
  // Within the limit: untouched.
  const short = renderTemplate({ version, variables: { a: 'Ann' } });
  assert.equal(short.ok && (short.media_spec!.layers[0] as { text: string }).text, 'Hi Ann');
  const previewed = renderTemplate({ version, variables: { a: long }, overlongLayerText: 'refuse' });
  assert.deepEqual(previewed.ok ? null : [previewed.code, previewed.reason], ['too_long', 'text layer 0 is 2003 characters once filled in (at most 300)']);
});

test('drawText measures once and draws within the pixel budget: the longest word fits the box and the lines fit max_lines', async () => {
  const layer = { type: 'text' as const, text: 'Congratulations Annabelle, your voucher is ready', x: 0, y: 0, font_size: 80, max_width: 600, max_lines: 2 };
  const budget = 600 * 400;
  const layout = await layoutText(layer, 1, budget);
  assert.ok(layout.size < 80 && layout.size >= 40, `shrunk to ${layout.size}`);
  const drawn = await drawText(layer, 1, budget);
  assert.ok(drawn.width <= 600, `${drawn.width} px wide`);
  assert.ok(drawn.width * drawn.height <= budget, `${drawn.width}×${drawn.height}`);
  assert.ok(drawn.height <= 2 * layout.size * 1.4, `${drawn.height} px high at ${layout.size} px: more than two lines`);
  // The same text with no room to shrink into: refused before drawing.
  await assert.rejects(layoutText({ ...layer, font_size: 400, max_width: 10000, max_lines: 1, text: 'WWW '.repeat(70) }, 1, budget), /at most 240000 pixels/);
});
