/**
 * Templates through the API, on both databases: versions (a change is a new draft; an approved
 * version never changes), previews with Intl formatting and a clear reason for a missing
 * variable, tracked links that record the click and only ever redirect to the template's own URL,
 * personalised images and video (drawn text checked in the pixels, ffprobe on the clip, one media
 * item per identical render), SSRF refusal of private layer URLs, and every denial.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { CreateMessageTemplateBody, PreviewTemplateBody } from '@mmd/contracts';
import type { MmdClient } from '@mmd/sdk';
import { locateBinaries } from '@mmd/media';
import fc from 'fast-check';
import sharp from 'sharp';
import { serverSecret } from '../src/platform/secrets.ts';
import { createLinkSigner } from '../src/templates/index.ts';
import { type TestServer, eventually, newBusinessTeam, onEachDatabase, rejectsWith, startTestServer, uniqueHandle } from './harness.ts';

const order: CreateMessageTemplateBody = {
  name: 'order shipped',
  purpose: 'transactional',
  default_locale: 'en',
  variables: [{ name: 'order_date', type: 'date' }, { name: 'total', type: 'currency', currency: 'EUR' }, { name: 'order_id' }],
  variants: {
    en: {
      text: 'Hi {{first_name}}, your order of {{order_date:date:long}} ({{total}}) is on its way.',
      buttons: [[{ type: 'url', text: 'Track', url: 'https://shop.example/orders/{{order_id}}' }, { type: 'url', text: 'Help', url: 'https://shop.example/help' }, { type: 'call', text: 'Call us', phone: '+1 415 555 2671' }]],
    },
    fr: { text: 'Bonjour {{first_name|à vous}}, votre commande du {{order_date:date:long}} ({{total}}) est en route.' },
    de: { text: 'Hallo {{first_name}}, Ihre Bestellung vom {{order_date:date:long}} ({{total}}) ist unterwegs.' },
  },
};

/** Mean absolute difference per channel inside a box of two same-sized images. */
async function difference(a: Buffer, b: Buffer, box: { left: number; top: number; width: number; height: number }): Promise<number> {
  const [x, y] = await Promise.all([a, b].map((img) => sharp(img).extract(box).removeAlpha().raw().toBuffer()));
  let sum = 0;
  for (let i = 0; i < x!.length; i++) sum += Math.abs(x![i]! - y![i]!);
  return sum / x!.length;
}

/**
 * A preview whose personalised render went through the media ladder: the preview waits up to 20 s
 * for it; on a loaded machine the ladder may take longer, so wait for the item, then ask again.
 */
async function previewReady(acting: MmdClient, owner: MmdClient, id: string, body: PreviewTemplateBody) {
  const first = await acting.previewTemplate(id, body);
  if (first.media?.status !== 'processing') return { first, ready: first };
  await owner.waitForMedia(first.media.id);
  return { first, ready: await acting.previewTemplate(id, body) };
}

onEachDatabase('templates', (dialect) => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ dialect, config: { publicUrl: 'https://mmd.example' } });
  });
  after(() => server.close());

  test('a change is a new draft version; approval fixes a version for good and only approved versions are sent', async () => {
    const { admin } = await newBusinessTeam(server);
    const created = await admin.acting.createTemplate(order);
    assert.equal(created.latest_version.number, 1);
    assert.equal(created.latest_version.state, 'draft');
    assert.equal(created.approved_version, null);
    assert.deepEqual(Object.keys(created.latest_version.variants).sort(), ['de', 'en', 'fr']);
    // Phone numbers are stored in E.164.
    assert.equal(created.latest_version.variants.en!.buttons![0]![2]!.phone, '+14155552671');

    const v2 = await admin.acting.updateTemplate(created.id, { variants: { ...order.variants, en: { ...order.variants.en!, text: 'Hello {{first_name}}, order {{order_id}} shipped.' } } });
    assert.equal(v2.latest_version.number, 2);
    const approved = await admin.acting.approveTemplate(created.id);
    assert.equal(approved.approved_version?.number, 2);
    assert.equal(approved.approved_version?.state, 'approved');
    await rejectsWith(admin.acting.approveTemplate(created.id, { version: 2 }), 'conflict', 409);

    const v3 = await admin.acting.updateTemplate(created.id, { variants: { ...order.variants, en: { text: 'Changed {{first_name}}' } } });
    assert.equal(v3.latest_version.number, 3);
    assert.equal(v3.latest_version.state, 'draft');
    assert.equal(v3.approved_version?.number, 2, 'the approved version is still the one sent');
    assert.equal(v3.approved_version?.variants.en?.text, 'Hello {{first_name}}, order {{order_id}} shipped.');

    // What campaigns call: the approved version renders; a draft is refused for sending.
    const templates = server.services.templates;
    const businessId = admin.acting.business!;
    const sendable = await templates.approvedVersion(businessId, created.id);
    assert.equal(sendable?.number, 2);
    const draft = await templates.version(businessId, v3.latest_version.id);
    assert.equal(draft?.state, 'draft');
    const { renderTemplate } = await import('../src/templates/index.ts');
    const refused = renderTemplate({ version: draft!, contact: { first_name: 'Ann' } });
    assert.deepEqual(refused, { ok: false, code: 'not_approved', reason: 'template version 3 is a draft: only approved versions are sent' });

    const renamed = await admin.acting.updateTemplate(created.id, { name: 'order on its way' });
    assert.equal(renamed.latest_version.number, 3, 'a rename makes no version');
    const list = await admin.acting.listTemplates();
    assert.deepEqual(list.templates.map((t) => [t.name, t.latest_number, t.approved_number, t.locales]), [['order on its way', 3, 2, ['de', 'en', 'fr']]]);

    await admin.acting.archiveTemplate(created.id);
    assert.deepEqual((await admin.acting.listTemplates()).templates, []);
    assert.equal((await admin.acting.listTemplates({ archived: true })).templates[0]?.status, 'archived');
    await rejectsWith(admin.acting.updateTemplate(created.id, { name: 'x' }), 'conflict', 409);
  });

  test('the list pages by name with a cursor, through archived ones too; a forged cursor is refused', async () => {
    const { admin } = await newBusinessTeam(server);
    const names = ['delta', 'alpha', 'echo', 'charlie', 'bravo'];
    const made = [];
    for (const name of names) made.push(await admin.acting.createTemplate({ ...order, name }));
    await admin.acting.archiveTemplate(made[0]!.id);
    const seen: string[] = [];
    let after: string | undefined;
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await admin.acting.listTemplates({ archived: true, limit: 2, ...(after ? { after } : {}) });
      assert.ok(page.templates.length <= 2);
      seen.push(...page.templates.map((t) => t.name));
      if (!page.next) break;
      after = page.next;
    }
    assert.deepEqual(seen, ['alpha', 'bravo', 'charlie', 'delta', 'echo'], 'every template once, by name, archived ones included');
    const active = await admin.acting.listTemplates();
    assert.deepEqual(active.templates.map((t) => t.name), ['alpha', 'bravo', 'charlie', 'echo']);
    assert.equal(active.next, null);
    await rejectsWith(admin.acting.listTemplates({ after: Buffer.from('["a","acc_x"]').toString('base64url') }), 'validation_failed', 400);
    await rejectsWith(admin.acting.listTemplates({ after: 'not a cursor' }), 'validation_failed', 400);
    await rejectsWith(admin.acting.listTemplates({ limit: 0 }), 'validation_failed', 400);
  });

  test('previews format dates and amounts in the locale asked for, and a missing variable is a clear reason', async () => {
    const { admin, analyst } = await newBusinessTeam(server);
    const t = await admin.acting.createTemplate(order);
    const variables = { order_date: '2026-03-01', total: 1234.5, order_id: 'A-17' };
    const en = await analyst.acting.previewTemplate(t.id, { variables, first_name: 'Ann', locale: 'en-US' });
    assert.equal(en.message.text, 'Hi Ann, your order of March 1, 2026 (€1,234.50) is on its way.');
    assert.equal(en.locale, 'en');
    const fr = await analyst.acting.previewTemplate(t.id, { variables, locale: 'fr-CA' });
    assert.equal(fr.message.text, 'Bonjour à vous, votre commande du 1 mars 2026 (1\u00a0234,50\u00a0€) est en route.');
    assert.equal(fr.locale, 'fr');
    const de = await analyst.acting.previewTemplate(t.id, { variables, first_name: 'Jörg', locale: 'de-AT' });
    // The de variant, formatted the Austrian way (the euro sign first).
    assert.equal(de.message.text, 'Hallo Jörg, Ihre Bestellung vom 1. März 2026 (€\u00a01.234,50) ist unterwegs.');
    await rejectsWith(analyst.acting.previewTemplate(t.id, { variables, locale: 'de' }), 'template_render_failed', 422);
    await assert.rejects(analyst.acting.previewTemplate(t.id, { variables, locale: 'de' }), /missing variable first_name/);
    await rejectsWith(analyst.acting.previewTemplate(t.id, { variables, contact_id: 'ct_unknown' }), 'not_found', 404);
  });

  test("a preview for a chosen contact uses their locale, time zone, fields and attributes", async () => {
    const { business, admin, analyst } = await newBusinessTeam(server);
    const person = await server.signUp();
    await business.client.contacts.defineAttribute('first_name', 'text');
    await business.client.contacts.defineAttribute('plan', 'text');
    const contact = await business.client.contacts.create({ handle: person.handle, locale: 'fr-CA', time_zone: 'America/Toronto', attributes: { first_name: 'Anne', plan: 'Or' } });
    const t = await admin.acting.createTemplate({
      name: 'renewal',
      purpose: 'transactional',
      default_locale: 'en',
      variables: [{ name: 'plan' }, { name: 'renews', type: 'datetime' }],
      variants: { en: { text: 'Hi {{first_name}}, {{plan}} renews {{renews}}' }, fr: { text: 'Bonjour {{first_name}} ({{handle}}), forfait {{plan}}, renouvelé le {{renews}}' } },
    });
    const preview = await analyst.acting.previewTemplate(t.id, { contact_id: contact.id, variables: { renews: '2026-06-01T23:30:00Z' } });
    assert.equal(preview.locale, 'fr');
    assert.equal(preview.message.text, `Bonjour Anne (${person.handle}), forfait Or, renouvelé le 1 juin 2026, 19 h 30`);
    // Given variables win over the contact's attributes.
    assert.equal((await analyst.acting.previewTemplate(t.id, { contact_id: contact.id, variables: { renews: '2026-06-01T23:30:00Z', plan: 'Argent' } })).message.text?.includes('forfait Argent'), true);
    // Another business's contact is not found.
    const other = await newBusinessTeam(server);
    const theirs = await other.admin.acting.createTemplate({ ...order, name: 'theirs' });
    await rejectsWith(other.admin.acting.previewTemplate(theirs.id, { contact_id: contact.id, variables: {} }), 'not_found', 404);
  });

  test('unknown variables are refused at save, each named', async () => {
    const { admin } = await newBusinessTeam(server);
    await rejectsWith(admin.acting.createTemplate({ ...order, variants: { en: { text: 'Hi {{frist_name}}, {{coupon}}' } } }), 'unknown_variables', 400);
    await assert.rejects(admin.acting.createTemplate({ ...order, variants: { en: { text: 'Hi {{frist_name}}, {{coupon}}' } } }), /unknown variables: frist_name, coupon/);
    const t = await admin.acting.createTemplate({ ...order, name: 'ok' });
    await rejectsWith(admin.acting.updateTemplate(t.id, { variables: [] }), 'unknown_variables', 400);
    await rejectsWith(admin.acting.createTemplate({ ...order, name: 'ok' }), 'conflict', 409);
  });

  test('a tracked link records the click (not a preview’s) and redirects only to the template’s own URL', async () => {
    const { admin } = await newBusinessTeam(server);
    const t = await admin.acting.createTemplate(order);
    const preview = await admin.acting.previewTemplate(t.id, { variables: { order_date: '2026-03-01', total: 5, order_id: 'A/17?x=1' }, first_name: 'Ann' });
    const buttons = (preview.message.interactive as { buttons: { type: string; url: string }[][] }).buttons[0]!;
    for (const b of buttons) assert.match(b.url, /^https:\/\/mmd\.example\/r\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    const follow = (url: string) => fetch(`${server.url}${new URL(url).pathname}`, { redirect: 'manual' });
    const track = await follow(buttons[0]!.url);
    assert.equal(track.status, 302);
    assert.equal(track.headers.get('location'), 'https://shop.example/orders/A%2F17%3Fx%3D1');
    assert.equal((await follow(buttons[1]!.url)).headers.get('location'), 'https://shop.example/help');
    assert.equal((await follow(buttons[2]!.url)).headers.get('location'), 'tel:+14155552671');
    // A preview's links redirect but record no click: the contact previewed never got the message.
    assert.deepEqual(await server.services.templates.clicks(admin.acting.business!, 'preview'), []);

    // A changed token is not ours.
    const token = new URL(buttons[1]!.url).pathname.slice(3);
    const [payload] = token.split('.');
    const tampered = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    tampered[6] = 'https://evil.example/';
    const forged = `${Buffer.from(JSON.stringify(tampered)).toString('base64url')}.${token.split('.')[1]}`;
    assert.equal((await fetch(`${server.url}/r/${forged}`, { redirect: 'manual' })).status, 404);
    // Even a correctly signed token cannot point anywhere but the button's URL.
    const signer = createLinkSigner(await serverSecret(server.db, 'template-links', ''));
    const versionId = t.latest_version.id;
    const make = signer.maker('https://mmd.example', 'attack')!;
    for (const target of ['https://evil.example/', 'https://shop.example/orders/x/../../admin', 'https://shop.example/orders/1@evil.example']) {
      const url = make({ versionId, locale: 'en', button: 'b0.0', kind: 'url', target, contactId: null });
      assert.equal((await follow(url)).status, 404, target);
    }
    // A static URL ignores any target in the token.
    assert.equal((await follow(make({ versionId, locale: 'en', button: 'b0.1', kind: 'url', target: 'https://evil.example/', contactId: null }))).headers.get('location'), 'https://shop.example/help');
    assert.equal((await server.services.templates.clicks(admin.acting.business!, 'attack')).length, 1);
  });

  test('replaying a link still redirects, but records at most 5 clicks of it a minute from one address', async () => {
    const { admin } = await newBusinessTeam(server);
    const t = await admin.acting.createTemplate(order);
    const signer = createLinkSigner(await serverSecret(server.db, 'template-links', ''));
    const url = signer.maker('https://mmd.example', 'replay')!({ versionId: t.latest_version.id, locale: 'en', button: 'b0.1', kind: 'url', target: null, contactId: 'ct_1' });
    const statuses = new Set<number>();
    for (let i = 0; i < 70; i++) statuses.add((await fetch(`${server.url}${new URL(url).pathname}`, { redirect: 'manual' })).status);
    assert.deepEqual([...statuses], [302]);
    const recorded = (await server.services.templates.clicks(admin.acting.business!, 'replay')).length;
    assert.ok(recorded >= 1 && recorded <= 5, `${recorded} clicks recorded`);
  });

  test('a personalised image carries the drawn text, and an identical render is the same media item', async () => {
    const { business, admin } = await newBusinessTeam(server);
    const base = await sharp({ create: { width: 800, height: 500, channels: 3, background: '#1d3557' } }).jpeg().toBuffer();
    const product = await sharp({ create: { width: 200, height: 200, channels: 3, background: '#e63946' } }).png().toBuffer();
    const baseId = (await business.client.upload(base, { filename: 'base.jpg' })).id;
    const productId = (await business.client.upload(product, { filename: 'product.png' })).id;
    await business.client.waitForMedia(baseId);
    await business.client.waitForMedia(productId);
    const textBox = { left: 40, top: 40, width: 500, height: 80 };
    const t = await admin.acting.createTemplate({
      name: 'offer',
      purpose: 'marketing',
      default_locale: 'en',
      variables: [{ name: 'code' }],
      variants: {
        en: {
          text: 'Your code inside',
          header: {
            personalised: {
              base_media_id: baseId,
              layers: [
                { type: 'text', text: '{{first_name}}: {{code}}', x: textBox.left, y: textBox.top, font_size: 48, color: '#ffffff', max_width: textBox.width },
                { type: 'image', media_id: productId, x: 560, y: 260, width: 200, height: 200 },
              ],
            },
          },
        },
      },
    });
    const { first, ready: ann } = await previewReady(admin.acting, business.client, t.id, { first_name: 'Ann', variables: { code: 'SAVE20' } });
    assert.equal(first.media?.personalised, true);
    assert.equal(first.media?.cached, false);
    assert.equal(ann.media?.status, 'ready');
    assert.deepEqual(ann.message.media, [ann.media!.id]);
    const rendered = Buffer.from(await (await fetch(`${server.url}${ann.media!.url!}`, { headers: { accept: 'image/jpeg' } })).arrayBuffer());
    const plain = await sharp(base).resize(800, 500).jpeg().toBuffer();
    const renderedAt = await sharp(rendered).resize(800, 500).png().toBuffer();
    assert.ok((await difference(renderedAt, plain, textBox)) > 10, 'pixels changed where the text is drawn');
    assert.ok((await difference(renderedAt, plain, { left: 560, top: 260, width: 200, height: 200 })) > 50, 'the product photo is drawn');
    assert.ok((await difference(renderedAt, plain, { left: 40, top: 300, width: 400, height: 150 })) < 4, 'nothing changed elsewhere');

    // The render was processed on the renders' own queue, not in line with people's uploads.
    const jobs = await server.db.db.selectFrom('jobs').select(['type']).where('dedupe_key', 'in', [`template-media-process:${ann.media!.id}`, `media-process:${ann.media!.id}`]).execute();
    assert.deepEqual(jobs.map((j) => j.type), ['template-media-process']);

    const again = await admin.acting.previewTemplate(t.id, { first_name: 'Ann', variables: { code: 'SAVE20' } });
    assert.equal(again.media?.id, ann.media!.id);
    assert.equal(again.media?.cached, true);
    const { ready: bob } = await previewReady(admin.acting, business.client, t.id, { first_name: 'Bob', variables: { code: 'SAVE20' } });
    assert.notEqual(bob.media?.id, ann.media!.id);
    const bobPixels = await sharp(Buffer.from(await (await fetch(`${server.url}${bob.media!.url!}`, { headers: { accept: 'image/jpeg' } })).arrayBuffer())).resize(800, 500).png().toBuffer();
    assert.ok((await difference(bobPixels, renderedAt, textBox)) > 2, 'another name, other pixels');
  });

  test('a personalised video is a playable clip with the overlay drawn', async () => {
    const { business, admin } = await newBusinessTeam(server);
    const { ffmpeg, ffprobe } = await locateBinaries();
    const dir = mkdtempSync(path.join(tmpdir(), 'mmd-tpl-video-'));
    try {
      const clip = path.join(dir, 'clip.mp4');
      execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0x203040:size=640x360:rate=25:duration=2', '-f', 'lavfi', '-i', 'sine=frequency=440:duration=2', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', clip]);
      const baseId = (await business.client.upload(readFileSync(clip), { filename: 'clip.mp4' })).id;
      const ready = await business.client.waitForMedia(baseId);
      assert.equal(ready.status, 'ready');
      const t = await admin.acting.createTemplate({
        name: 'video offer',
        purpose: 'marketing',
        default_locale: 'en',
        variants: { en: { text: 'For you', header: { personalised: { base_media_id: baseId, layers: [{ type: 'text', text: 'Hello {{first_name}}!', x: 20, y: 20, font_size: 40, color: '#ffff00', max_width: 400 }] } } } },
      });
      const { ready: preview } = await previewReady(admin.acting, business.client, t.id, { first_name: 'Zoé' });
      assert.equal(preview.media?.kind, 'video');
      assert.equal(preview.media?.status, 'ready');
      const out = path.join(dir, 'out.mp4');
      writeFileSync(out, Buffer.from(await (await fetch(`${server.url}${preview.media!.url!}`)).arrayBuffer()));
      const probe = JSON.parse(execFileSync(ffprobe, ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name,width:format=duration', '-of', 'json', out]).toString()) as { streams: { codec_type: string; codec_name: string }[]; format: { duration: string } };
      assert.ok(probe.streams.some((s) => s.codec_type === 'video' && s.codec_name === 'h264'));
      assert.ok(Math.abs(Number(probe.format.duration) - 2) < 0.3, `duration ${probe.format.duration}`);
      const frame = (file: string) => execFileSync(ffmpeg, ['-hide_banner', '-loglevel', 'error', '-ss', '1', '-i', file, '-frames:v', '1', '-vf', 'scale=640:360', '-f', 'image2pipe', '-c:v', 'png', '-']);
      const box = { left: 20, top: 20, width: 300, height: 50 };
      assert.ok((await difference(frame(out), frame(clip), box)) > 10, 'the text is drawn over the clip');
      assert.ok((await difference(frame(out), frame(clip), { left: 20, top: 200, width: 500, height: 140 })) < 4, 'nothing changed elsewhere');
      const again = await admin.acting.previewTemplate(t.id, { first_name: 'Zoé' });
      assert.equal(again.media?.id, preview.media!.id);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('campaigns render an approved version per recipient: links name the campaign, clicks are heard, identical renders share media', async () => {
    const { business, admin } = await newBusinessTeam(server);
    const baseId = (await business.client.upload(await sharp({ create: { width: 400, height: 200, channels: 3, background: '#336699' } }).jpeg().toBuffer())).id;
    await business.client.waitForMedia(baseId);
    const t = await admin.acting.createTemplate({
      name: 'promo',
      purpose: 'marketing',
      default_locale: 'en',
      variables: [{ name: 'code' }, { name: 'sku' }, { name: 'city', default: 'your city' }],
      variants: {
        en: {
          text: 'Hi {{first_name}}, {{code}} in {{city}}',
          header: { personalised: { base_media_id: baseId, layers: [{ type: 'text', text: '{{code}}', x: 10, y: 10, font_size: 30 }] } },
          buttons: [[{ type: 'url', text: 'Shop', url: 'https://shop.example/p/{{sku}}' }]],
        },
      },
    });
    const templates = server.services.templates;
    const businessId = business.accountId;
    const draftInfo = await templates.versionInfo(businessId, t.latest_version.id, ['code']);
    assert.deepEqual(draftInfo && { approved: draftInfo.approved, unknown: draftInfo.unknownVariables, purpose: draftInfo.purpose }, { approved: false, unknown: ['sku'], purpose: 'marketing' });
    const draft = await templates.renderFor({ businessId, versionId: t.latest_version.id, contact: { id: 'ct_1', first_name: 'Ann' }, variables: { code: 'X', sku: '1' }, context: 'cmp_1' });
    assert.equal(draft.ok ? 'sent' : draft.code, 'not_approved');
    const approved = await admin.acting.approveTemplate(t.id);
    assert.equal((await templates.versionInfo(businessId, approved.approved_version!.id, ['code', 'sku']))?.unknownVariables.length, 0);
    assert.equal(await templates.versionInfo('acc_other', approved.approved_version!.id, []), null, "another business's version is not found");

    const heard: string[] = [];
    templates.onClick((click) => {
      if (click.context === 'cmp_1') heard.push(`${click.contactId}:${click.button}`);
    });
    const render = (contactId: string, name: string) => templates.renderFor({ businessId, versionId: approved.approved_version!.id, contact: { id: contactId, first_name: name }, variables: { code: 'SPRING', sku: 'b-7' }, context: 'cmp_1' });
    const [ann, bob] = await Promise.all([render('ct_ann', 'Ann'), render('ct_bob', 'Bob')]);
    assert.ok(ann.ok && bob.ok);
    assert.equal(ann.message.text, 'Hi Ann, SPRING in your city');
    assert.deepEqual(ann.message.media, bob.message.media, 'the same picture for both: one render');
    const missing = await templates.renderFor({ businessId, versionId: approved.approved_version!.id, contact: { id: 'ct_x', first_name: 'Cy' }, variables: { sku: '1' }, context: 'cmp_1' });
    assert.deepEqual(missing, { ok: false, code: 'missing_variable', reason: 'missing variable code' });

    const link = (ann.message.interactive as { buttons: { url: string }[][] }).buttons[0]![0]!.url;
    const followed = await fetch(`${server.url}${new URL(link).pathname}`, { redirect: 'manual' });
    assert.equal(followed.headers.get('location'), 'https://shop.example/p/b-7');
    assert.deepEqual(heard, ['ct_ann:b0.0']);
    assert.deepEqual((await templates.clicks(businessId, 'cmp_1')).map((c) => c.contact_id), ['ct_ann']);
  });

  test("a rendered message is what messaging sends: the customer gets the text, the tracked buttons and the personalised picture", async () => {
    const { business, admin } = await newBusinessTeam(server);
    const customer = await server.signUp();
    const baseId = (await business.client.upload(await sharp({ create: { width: 300, height: 200, channels: 3, background: '#2a9d8f' } }).jpeg().toBuffer())).id;
    await business.client.waitForMedia(baseId);
    const t = await admin.acting.createTemplate({
      name: 'welcome',
      purpose: 'marketing',
      default_locale: 'en',
      variables: [{ name: 'total', type: 'currency', currency: 'EUR' }],
      variants: {
        en: {
          text: 'Welcome {{first_name}}: {{total}} off',
          header: { personalised: { base_media_id: baseId, layers: [{ type: 'text', text: '{{first_name}}', x: 10, y: 10, font_size: 24 }] } },
          buttons: [[{ type: 'url', text: 'Shop', url: 'https://shop.example/' }, { type: 'reply', text: 'Stop' }]],
        },
      },
    });
    const approved = await admin.acting.approveTemplate(t.id);
    const rendered = await server.services.templates.renderFor({ businessId: business.accountId, versionId: approved.approved_version!.id, contact: { id: 'ct_c', first_name: 'Cleo', locale: 'en-IE' }, variables: { total: 5 }, context: 'cmp_welcome' });
    assert.ok(rendered.ok, rendered.ok ? '' : rendered.reason);
    const chat = await business.client.openDirect(customer.handle);
    const { interactive, ...rest } = rendered.message;
    await business.client.send(chat.id, { ...rest, ...(interactive as object), idempotency_key: 'cmp_welcome:ct_c' });
    // Held until the render is processed, then delivered like any message with media.
    const seen = await eventually('the message reaches the customer', async () => (await customer.client.history(chat.id)).messages.find((m) => m.text?.startsWith('Welcome')), 60_000);
    assert.equal(seen.text, 'Welcome Cleo: €5.00 off');
    assert.equal(seen.media.length, 1);
    assert.deepEqual(seen.buttons?.[0]?.map((b) => [b.type, b.text, b.domain ?? null]), [['url', 'Shop', 'mmd.example'], ['reply', 'Stop', null]]);
  });

  test('image layers by URL must not reach private addresses', async () => {
    const { business, admin } = await newBusinessTeam(server);
    const baseId = (await business.client.upload(await sharp({ create: { width: 100, height: 100, channels: 3, background: '#000000' } }).jpeg().toBuffer())).id;
    await business.client.waitForMedia(baseId);
    for (const url of ['https://127.0.0.1/p.png', 'https://localhost/products/{{sku}}.png', 'https://169.254.169.254/latest/meta-data']) {
      const body: CreateMessageTemplateBody = {
        name: uniqueHandle('ssrf'),
        purpose: 'marketing',
        variables: [{ name: 'sku' }],
        variants: { en: { text: 'x', header: { personalised: { base_media_id: baseId, layers: [{ type: 'image', url, x: 0, y: 0, width: 50, height: 50 }] } } } },
      };
      await rejectsWith(admin.acting.createTemplate(body), 'validation_failed', 400);
      await assert.rejects(admin.acting.createTemplate(body), /private or reserved address/);
    }
    // At render time too (a host that resolved publicly at save but privately now is refused by the pinned fetch).
    const result = await server.services.templates.personalise(business.accountId, { base_media_id: baseId, layers: [{ type: 'image', url: 'https://127.0.0.1/p.png', x: 0, y: 0, width: 10, height: 10 }] });
    assert.deepEqual(result, { ok: false, reason: 'image layer 0: the URL points at a private or reserved address' });
  });

  test('random bodies at every template route, as a business, never cause a 5xx', async () => {
    const { business } = await newBusinessTeam(server);
    const t = await business.client.createTemplate({ ...order, name: 'fuzz' });
    const routes: [string, string][] = [
      ['POST', '/v1/business/templates'],
      ['PATCH', `/v1/business/templates/${t.id}`],
      ['POST', `/v1/business/templates/${t.id}/approve`],
      ['POST', `/v1/business/templates/${t.id}/preview`],
    ];
    const text = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('{{first_name}}', '{{x|y}}', '{{total:currency:EUR}}', '{{d:date:huge}}', '{{', '}}{{a:b:c:d}}', '{{ first_name | }}'));
    const button = fc.record({ type: fc.constantFrom('reply', 'url', 'call', 'callback', 'copy', 'nope'), text, url: fc.constantFrom('https://a.example/{{order_id}}', 'http://x', 'https://{{h}}/', 'javascript:alert(1)'), phone: fc.constantFrom('+33612345678', '12', ''), data: text }, { requiredKeys: ['type', 'text'] });
    const content = fc.record({ text, buttons: fc.array(fc.array(button, { maxLength: 3 }), { maxLength: 2 }), poll: fc.record({ question: text, options: fc.array(text, { maxLength: 3 }) }), header: fc.record({ media_id: fc.string({ maxLength: 10 }), personalised: fc.record({ base_media_id: fc.string({ maxLength: 10 }), layers: fc.array(fc.record({ type: fc.constantFrom('text', 'image'), x: fc.integer(), y: fc.integer(), text, font_size: fc.integer(), url: fc.string() }), { maxLength: 2 }) }) }, { requiredKeys: [] }) }, { requiredKeys: [] });
    const near = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record({ name: fc.string({ maxLength: 8 }), purpose: fc.constantFrom('marketing', 'transactional', 'x'), default_locale: fc.constantFrom('en', 'fr-CA', 'xx-!!', ''), variables: fc.array(fc.record({ name: fc.constantFrom('order_id', 'first_name', 'A', 'total'), type: fc.constantFrom('text', 'currency', 'date') }), { maxLength: 3 }), variants: fc.dictionary(fc.constantFrom('en', 'fr', 'de-AT', '!!', 'en-us'), content, { maxKeys: 2 }) }, { requiredKeys: [] }),
      fc.record({ version: fc.integer({ min: -1, max: 5 }), variables: fc.dictionary(fc.constantFrom('order_date', 'total', 'order_id'), fc.oneof(fc.string({ maxLength: 12 }), fc.double(), fc.integer(), fc.constant(null))), locale: fc.constantFrom('fr-CA', 'zz', '', 'de'), time_zone: fc.constantFrom('Mars/Olympus', 'Europe/Paris', ''), contact_id: fc.string({ maxLength: 5 }) }, { requiredKeys: [] }),
    );
    for (const [method, url] of routes) {
      await fc.assert(
        fc.asyncProperty(near, async (body) => {
          const res = await server.app.inject({ method: method as 'POST', url, headers: { authorization: `Bearer ${business.token}`, 'content-type': 'application/json' }, payload: JSON.stringify(body) });
          assert.ok(res.statusCode < 500, `${method} ${url} ${JSON.stringify(body)} → ${res.statusCode} ${res.body}`);
          if (res.statusCode >= 400) assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        }),
        { numRuns: 40, seed: 20261205 },
      );
    }
    assert.equal((await server.app.inject({ method: 'GET', url: `/r/${'x'.repeat(5000)}` })).statusCode < 500, true);
  });

  test('media in a template must be the business’s own', async () => {
    const { admin } = await newBusinessTeam(server);
    const stranger = await server.signUp();
    const theirs = (await stranger.client.upload(await sharp({ create: { width: 10, height: 10, channels: 3, background: '#000000' } }).jpeg().toBuffer())).id;
    await rejectsWith(admin.acting.createTemplate({ ...order, variants: { en: { text: 'x', header: { media_id: theirs } } } }), 'validation_failed', 400);
  });

  test('denials: analysts and agents cannot write, agents cannot approve, another business sees nothing, keys need the scope', async () => {
    const { business, admin, agent, analyst } = await newBusinessTeam(server);
    const t = await admin.acting.createTemplate(order);
    await rejectsWith(analyst.acting.createTemplate({ ...order, name: 'by analyst' }), 'forbidden', 403);
    await rejectsWith(analyst.acting.updateTemplate(t.id, { name: 'x' }), 'forbidden', 403);
    await rejectsWith(agent.acting.createTemplate({ ...order, name: 'by agent' }), 'forbidden', 403);
    await rejectsWith(agent.acting.approveTemplate(t.id), 'forbidden', 403);
    await rejectsWith(agent.acting.archiveTemplate(t.id), 'forbidden', 403);
    // Reading is for every role.
    assert.equal((await agent.acting.getTemplate(t.id)).id, t.id);
    assert.equal((await analyst.acting.listTemplates()).templates.length, 1);

    const other = await newBusinessTeam(server);
    await rejectsWith(other.admin.acting.getTemplate(t.id), 'not_found', 404);
    await rejectsWith(other.admin.acting.updateTemplate(t.id, { name: 'mine' }), 'not_found', 404);
    await rejectsWith(other.admin.acting.approveTemplate(t.id), 'not_found', 404);
    await rejectsWith(other.admin.acting.previewTemplate(t.id, {}), 'not_found', 404);
    await rejectsWith(other.admin.acting.archiveTemplate(t.id), 'not_found', 404);
    assert.deepEqual((await other.admin.acting.listTemplates()).templates, []);
    const stranger = await server.signUp();
    await rejectsWith(stranger.client.forBusiness(business.accountId).listTemplates(), 'not_found', 404);
    await rejectsWith(admin.client.listTemplates(), 'business_required', 400);

    const { key } = await business.client.createApiKey({ name: 'reader', scopes: ['business:read'] });
    const reader = server.anonymous.as(key);
    assert.equal((await reader.listTemplates()).templates.length, 1);
    await rejectsWith(reader.createTemplate({ ...order, name: 'by key' }), 'insufficient_scope', 403);
    await rejectsWith(reader.approveTemplate(t.id), 'insufficient_scope', 403);
    // A bad link is a plain 404 (no oracle).
    assert.equal((await fetch(`${server.url}/r/nothing.here`, { redirect: 'manual' })).status, 404);
  });
});
