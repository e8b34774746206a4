/**
 * Refreshes the business console's screenshots in docs/screenshots/ (business-*.png): starts a
 * throwaway server (embedded SQLite), makes a small bakery with a team, then photographs each page
 * of the console in Debian's Chromium. Run: `npm run screenshots:business`.
 */
import path from 'node:path';
import sharp from 'sharp';
import { startTestServer } from '../apps/server/test/harness.ts';
import { DESKTOP, SCREENSHOTS, buildWebApp, launchBrowser, screenshot, signedIn } from '../e2e/browser.ts';

buildWebApp();
const server = await startTestServer({ dialect: 'sqlite' });
try {
  const bakery = await server.signUp('harbourbakery', { kind: 'business' });
  const nadia = await server.signUp('nadia');
  await server.signUp('omar');
  const priya = await server.signUp('priya');
  await bakery.client.putBusinessMember('nadia', 'admin');
  await bakery.client.putBusinessMember('omar', 'agent');
  await bakery.client.putBusinessMember('priya', 'analyst');
  await bakery.client.updateBusiness({
    display_name: 'Harbour Bakery',
    about: 'Sourdough, pastries and coffee by the harbour since 1998.',
    settings: { quiet_hours: { start: '21:00', end: '08:00' }, frequency_caps: { marketing: { max: 2, days: 7 }, surveys: { max: 1, days: 30 } }, default_locale: 'en-GB', default_time_zone: 'Europe/London' },
  });

  // Customers: a few contacts, with attributes, tags and consent with its proof.
  const shop = bakery.client;
  await shop.contacts.defineAttribute('first_name', 'text');
  await shop.contacts.defineAttribute('loyalty_points', 'number');
  await shop.contacts.defineAttribute('birthday', 'date');
  const customers = [
    { handle: 'amelie', name: 'Amélie Durand', first: 'Amélie', locale: 'fr-FR', zone: 'Europe/Paris', tags: ['regular', 'sourdough'], points: 420 },
    { handle: 'ben', name: 'Ben Carter', first: 'Ben', locale: 'en-GB', zone: 'Europe/London', tags: ['regular'], points: 130 },
    { handle: 'chiara', name: 'Chiara Rossi', first: 'Chiara', locale: 'it-IT', zone: 'Europe/Rome', tags: ['wholesale'], points: 0 },
    { handle: 'dmitri', name: 'Dmitri Volkov', first: 'Dmitri', locale: 'en-GB', zone: 'Europe/London', tags: [], points: 55 },
  ];
  const contactIds: string[] = [];
  const customerUsers: Awaited<ReturnType<typeof server.signUp>>[] = [];
  for (const [i, c] of customers.entries()) {
    customerUsers.push(await server.signUp(c.handle));
    const contact = await shop.contacts.create({
      handle: c.handle,
      name: c.name,
      external_id: `HB-${1001 + i}`,
      locale: c.locale,
      time_zone: c.zone,
      tags: c.tags,
      attributes: { first_name: c.first, loyalty_points: c.points, birthday: `199${i}-0${i + 3}-1${i}` },
    });
    contactIds.push(contact.id);
    if (i < 3)
      await shop.contacts.recordConsent(contact.id, {
        purpose: 'marketing',
        action: 'opt_in',
        proof: { wording: 'Send me news and offers from Harbour Bakery', at: '2026-03-0' + (i + 1) + 'T10:00:00Z', evidence: `loyalty card form #${2040 + i}`, collected_via: 'shop counter' },
      });
  }
  await shop.contacts.recordConsent(contactIds[1]!, { purpose: 'marketing', action: 'opt_out' });

  // A template with a personalised picture.
  const picture = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#9a3412' } }).jpeg().toBuffer();
  const base = await shop.upload(picture, { filename: 'loaf.jpg', contentType: 'image/jpeg' });
  await shop.waitForMedia(base.id);
  const template = await shop.createTemplate({
    name: 'Weekend sourdough',
    purpose: 'marketing',
    default_locale: 'en',
    variables: [{ name: 'code', example: 'LOAF10' }],
    variants: {
      en: {
        text: 'Hi {{first_name}}! Our weekend sourdough is back. Show code {{code}} at the counter for 10% off.',
        header: { personalised: { base_media_id: base.id, layers: [{ type: 'text', text: 'For {{first_name}}', x: 40, y: 300, font_size: 56, color: '#ffffff', bold: true }] } },
        buttons: [[{ type: 'url', text: 'See the menu', url: 'https://harbour.example/menu' }], [{ type: 'reply', text: 'Keep me a loaf' }]],
      },
      fr: { text: 'Bonjour {{first_name}} ! Notre pain au levain revient ce week-end. Code {{code}} : -10 %.' },
    },
  });
  await shop.approveTemplate(template.id);

  // An import with a few refused rows, and a saved segment.
  for (const h of ['elena', 'farid', 'grace']) await server.signUp(h);
  const csv = [
    'handle,name,external_id,locale,time_zone,tags,attr:loyalty_points:number,consent_purpose,consent_source,consent_wording,consent_at,consent_evidence',
    'elena,Elena Petrova,HB-2001,en-GB,Europe/London,regular,80,marketing,website,Send me news and offers from Harbour Bakery,2026-04-02T08:00:00Z,signup log 88121',
    'farid,Farid Haddad,HB-2002,fr-FR,Europe/Paris,,12,,,,,',
    'grace,Grace Lee,HB-2003,en-GB,Mars/Base,,,,,,,',
    'nobody_here,,HB-2004,,,,,,,,,',
    'elena,Elena Petrova,HB-2005,en,,,many,,,,,',
    'farid,Farid Haddad,HB-2006,fr-FR,,,,marketing,,,,',
  ].join('\n');
  const job = await shop.contactImports.upload(csv);
  for (let i = 0; i < 100 && ['queued', 'running'].includes((await shop.contactImports.get(job.id)).status); i++) await new Promise((r) => setTimeout(r, 100));
  const segment = await shop.segments.create({
    name: 'Loyal regulars',
    description: 'Opted in, tagged regular, with 100+ points or French-speaking',
    rule: { all: [{ consent: 'marketing', state: 'opted_in' }, { tag: 'regular' }, { any: [{ attribute: 'loyalty_points', op: 'gte', value: 100 }, { locale: 'fr' }] }] },
  });

  // Two campaigns to the customers who opted in: one A/B test, read by some.
  const second = await shop.createTemplate({ name: 'Weekend sourdough (short)', purpose: 'marketing', default_locale: 'en', variables: [{ name: 'code', example: 'LOAF10' }], variants: { en: { text: 'Sourdough is back this weekend, {{first_name}}. Code {{code}}: 10% off.' } } });
  await shop.approveTemplate(second.id);
  const versionOf = async (id: string) => (await shop.getTemplate(id)).approved_version!.id;
  const everyone = await shop.segments.create({ name: 'Opted in to marketing', rule: { consent: 'marketing', state: 'opted_in' } });
  const ab = await shop.createCampaign({
    name: 'Weekend sourdough A/B',
    audience: { segment_id: everyone.id },
    variants: [{ template_version_id: await versionOf(template.id) }, { template_version_id: await versionOf(second.id) }],
    variables: { code: 'LOAF10' },
    throttle_per_second: 50,
  });
  const single = await shop.createCampaign({ name: 'Short note', audience: { segment_id: everyone.id }, variants: [{ template_version_id: await versionOf(second.id) }], variables: { code: 'SHORT5' } });
  for (const c of [ab, single]) {
    await shop.startCampaign(c.id);
    for (let i = 0; i < 100 && (await shop.campaign(c.id)).status !== 'completed'; i++) await new Promise((r) => setTimeout(r, 100));
  }
  // Amélie reads hers.
  const amelie = customerUsers[0]!;
  for (const chat of (await amelie.client.conversations()).filter((x) => x.kind === 'direct')) {
    const { messages } = await amelie.client.history(chat.id);
    if (messages.length) await amelie.client.markRead(chat.id, Math.max(...messages.map((m) => m.seq)));
  }

  const browser = await launchBrowser();
  try {
    const admin = await signedIn(browser, server, nadia, DESKTOP);
    await admin.page.goto(`${server.url}/business/harbourbakery/settings`);
    await admin.page.locator('tr[data-member="priya"]').waitFor();
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'business-settings.png'), fullPage: true });
    const analyst = await signedIn(browser, server, priya, DESKTOP);
    await analyst.page.goto(`${server.url}/business/harbourbakery/settings`);
    await analyst.page.locator('tr[data-member="omar"]').waitFor();
    await screenshot(analyst.page, 'business-settings-analyst.png');
    await admin.page.goto(`${server.url}/business/harbourbakery/contacts`);
    await admin.page.locator('tr[data-contact]').nth(3).waitFor();
    await screenshot(admin.page, 'business-contacts.png');
    await admin.page.goto(`${server.url}/business/harbourbakery/contacts/${contactIds[1]}`);
    await admin.page.getByRole('list', { name: 'Consent history, newest first' }).getByRole('listitem').nth(1).waitFor();
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'business-contact.png'), fullPage: true });
    await admin.page.goto(`${server.url}/business/harbourbakery/templates/${template.id}`);
    await admin.page.getByLabel('Find a contact').fill('Ben');
    await admin.page.getByLabel('Preview for').locator('option', { hasText: 'Ben Carter' }).waitFor({ state: 'attached' });
    await admin.page.getByLabel('Preview for').selectOption({ label: 'Ben Carter · en-GB' });
    await admin.page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="template-preview"] img');
      return Boolean(img?.complete && img.naturalWidth > 0) && document.querySelector('[data-testid="template-preview"]')?.textContent?.includes('Hi Ben!');
    }, undefined, { timeout: 60_000 });
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'business-template.png'), fullPage: true });
    await admin.page.goto(`${server.url}/business/harbourbakery/contacts/import/${job.id}`);
    await admin.page.getByRole('table', { name: 'Refused rows' }).locator('tbody tr').first().waitFor();
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'business-import.png'), fullPage: true });
    await admin.page.goto(`${server.url}/business/harbourbakery/segments/${segment.id}`);
    await admin.page.getByTestId('segment-count').waitFor();
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'business-segment.png'), fullPage: true });
    await admin.page.goto(`${server.url}/business/harbourbakery/campaigns`);
    await admin.page.locator('.biz-campaigns progress').nth(1).waitFor();
    await screenshot(admin.page, 'business-campaigns.png');
    await admin.page.goto(`${server.url}/business/harbourbakery/campaigns/${ab.id}`);
    await admin.page.getByRole('figure', { name: /^Variants of/ }).waitFor();
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'business-campaign.png'), fullPage: true });
    await admin.page.goto(`${server.url}/business/harbourbakery/analytics`);
    await admin.page.getByRole('figure', { name: 'Campaign funnels compared' }).waitFor();
    await admin.page.screenshot({ path: path.join(SCREENSHOTS, 'business-analytics.png'), fullPage: true });
    console.log('screenshots saved in docs/screenshots/');
  } finally {
    await browser.close();
  }
} finally {
  await server.close();
}
