/**
 * The business console's template editor in Chromium against the real server: an admin writes a
 * template with a declared variable, a French variant, a link button and a personalised image
 * (a text layer drawn per recipient on the business's own picture), creates it, previews it for
 * a chosen contact (their locale's variant, their name, their image), sees the preview follow a
 * changed variable value, approves version 1, and saves a draft version 2 that the preview shows.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { newBusinessTeam, type TestServer, uniqueHandle } from '../apps/server/test/harness.ts';
import { closeBrowserSuite, DESKTOP, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

describe('the business template editor', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('writes a template with a variant, a button and a personalised image, previews it for a contact, approves it', { timeout: 180_000 }, async () => {
    const team = await newBusinessTeam(server);
    const shop = team.business.client;
    await shop.contacts.defineAttribute('first_name', 'text');
    const zoePerson = await server.signUp(uniqueHandle('zoe'));
    const yannPerson = await server.signUp(uniqueHandle('yann'));
    await shop.contacts.create({ handle: zoePerson.handle, name: 'Zoë Martin', locale: 'fr-FR', attributes: { first_name: 'Zoë' } });
    await shop.contacts.create({ handle: yannPerson.handle, name: 'Yann Le Gall', locale: 'en-GB', attributes: { first_name: 'Yann' } });
    // The picture the layers are drawn on: the business's own upload.
    const picture = await sharp({ create: { width: 640, height: 320, channels: 3, background: '#1d4ed8' } }).jpeg().toBuffer();
    const base = await shop.upload(picture, { filename: 'spring.jpg', contentType: 'image/jpeg' });
    await shop.waitForMedia(base.id);

    const a = await signedIn(browser, server, team.admin, DESKTOP);
    const page = a.page;
    await page.goto(`${server.url}/business/${team.business.handle}/templates`);
    await page.getByText('No templates yet.').waitFor();
    await page.getByRole('link', { name: 'New template' }).click();
    await page.getByRole('heading', { name: 'New template' }).waitFor();

    await page.getByLabel('Name', { exact: true }).fill('Spring offer');
    await page.getByLabel('Purpose').selectOption('marketing');
    await page.getByRole('button', { name: 'Add a variable' }).click();
    await page.getByLabel('Variable name').fill('code');
    await page.getByLabel('Example').fill('SPRING10');
    const text = page.getByLabel(/^Text \(/);
    await text.fill('Hello {{first_name}}, your code is ');
    // The variable chips insert at the caret.
    await text.press('End');
    await page.getByRole('button', { name: 'Insert {{code}}' }).click();
    assert.equal(await text.inputValue(), 'Hello {{first_name}}, your code is {{code}}');
    await text.press('End');
    await text.pressSequentially('.');

    // A personalised header: one text layer on the business's picture.
    await page.getByLabel('Personalised: layers drawn per recipient').check();
    await page.getByLabel('Base image or short video (media id)').fill(base.id);
    await page.getByRole('button', { name: 'Add a layer' }).click();
    await page.getByLabel('Layer text').fill('Hi {{first_name}}!');
    // A link button with the variable in its query.
    await page.getByRole('button', { name: 'Add a button' }).click();
    await page.getByLabel('Button 1 kind').selectOption('url');
    await page.getByLabel('Button 1 label').fill('Shop now');
    await page.getByLabel('Button 1 URL').fill('https://shop.example/offer?c={{code}}');

    // A French variant, starting from the default one.
    await page.getByLabel('Add a locale').fill('fr');
    await page.getByRole('button', { name: 'Add locale' }).click();
    await page.getByRole('tab', { name: 'fr' }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'fr' }).getAttribute('aria-selected'), 'true');
    await page.getByLabel(/^Text \(fr\)/).fill('Bonjour {{first_name}}, votre code est {{code}}.');
    await page.getByLabel('Button 1 label').fill('Acheter');

    await page.getByRole('button', { name: 'Create template' }).click();
    await page.getByRole('heading', { name: 'Spring offer', level: 2 }).waitFor();
    const [summary] = (await shop.listTemplates()).templates;
    assert.equal(summary?.name, 'Spring offer');
    const created = await shop.getTemplate(summary!.id);
    assert.deepEqual(Object.keys(created.latest_version.variants).sort(), ['en', 'fr']);
    assert.equal(created.latest_version.variants.fr?.text, 'Bonjour {{first_name}}, votre code est {{code}}.');
    assert.equal(created.latest_version.variants.en?.header?.personalised?.layers[0]?.text, 'Hi {{first_name}}!');

    // The preview, first with sample values.
    const preview = page.getByTestId('template-preview');
    await preview.getByText('Hello Alex, your code is SPRING10.').waitFor({ timeout: 30_000 });
    // For Zoë: her locale's variant, her name, and her own picture.
    await page.getByLabel('Find a contact').fill('Zoë');
    await page.getByLabel('Preview for').locator('option', { hasText: 'Zoë Martin' }).waitFor({ state: 'attached' });
    await page.getByLabel('Preview for').selectOption({ label: 'Zoë Martin · fr-FR' });
    await preview.getByText('Bonjour Zoë, votre code est SPRING10.').waitFor({ timeout: 30_000 });
    await preview.getByText('Acheter').waitFor();
    const image = preview.getByRole('img', { name: 'The personalised image for this recipient' });
    await image.waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>('[data-testid="template-preview"] img');
      return Boolean(img?.complete && img.naturalWidth > 0);
    });
    // A changed value: the preview follows without a click.
    await page.getByLabel('code', { exact: true }).fill('VIP20');
    await preview.getByText('Bonjour Zoë, votre code est VIP20.').waitFor({ timeout: 30_000 });

    // Approve version 1 after the app's own dialog.
    await page.getByRole('button', { name: 'Approve version 1' }).click();
    await page.getByRole('dialog', { name: 'Approve version 1 of “Spring offer”?' }).getByRole('button', { name: 'Approve version 1' }).click();
    await page.getByText('Version 1 approved.').waitFor();
    assert.equal((await shop.getTemplate(created.id)).approved_version?.number, 1);

    // A change is a new draft; the preview shows it, the approved version stays.
    await page.getByRole('tab', { name: 'en' }).click();
    await page.getByLabel(/^Text \(en\)/).fill('Hi {{first_name}}, {{code}} is yours.');
    await page.getByRole('button', { name: 'Save draft' }).click();
    await page.getByText('Saved as draft version 2.').waitFor();
    await page.getByLabel('Preview for').selectOption({ label: 'Sample values (no contact)' });
    await page.getByLabel('Locale', { exact: true }).selectOption('en');
    await preview.getByText('Hi Alex, VIP20 is yours.').waitFor({ timeout: 30_000 });
    const after = await shop.getTemplate(created.id);
    assert.equal(after.latest_version.number, 2);
    assert.equal(after.latest_version.state, 'draft');
    assert.equal(after.approved_version?.number, 1);
    assert.deepEqual(a.errors, []);
    await a.context.close();
  });

  it('shows the server’s reason when a template names an unknown variable', { timeout: 60_000 }, async () => {
    const team = await newBusinessTeam(server);
    const a = await signedIn(browser, server, team.admin, DESKTOP);
    await a.page.goto(`${server.url}/business/${team.business.handle}/templates/new`);
    await a.page.getByLabel('Name', { exact: true }).fill('Broken');
    await a.page.getByLabel(/^Text \(/).fill('Hello {{nickname}}');
    await a.page.getByRole('button', { name: 'Create template' }).click();
    await a.page.getByRole('alert').filter({ hasText: 'nickname' }).waitFor();
    assert.equal((await team.business.client.listTemplates()).templates.length, 0);
    // An analyst's editor is read-only.
    const b = await signedIn(browser, server, team.analyst, DESKTOP);
    await b.page.goto(`${server.url}/business/${team.business.handle}/templates`);
    await b.page.getByText('No templates yet.').waitFor();
    assert.equal(await b.page.getByRole('link', { name: 'New template' }).count(), 0);
    // …but they read every locale of a template, with nothing to change.
    const t = await team.business.client.createTemplate({ name: 'Two languages', purpose: 'service', variants: { en: { text: 'Open today' }, fr: { text: 'Ouvert aujourd’hui' } } });
    await b.page.goto(`${server.url}/business/${team.business.handle}/templates/${t.id}`);
    await b.page.getByRole('tab', { name: 'fr' }).click();
    assert.equal(await b.page.getByLabel('Text (fr)').inputValue(), 'Ouvert aujourd’hui');
    assert.ok(await b.page.getByLabel('Text (fr)').isDisabled());
    for (const name of ['Save draft', 'Add locale', 'Archive', /^Approve/])
      assert.equal(await b.page.getByRole('button', { name }).count(), 0, `no ${String(name)} button`);
    await a.context.close();
    await b.context.close();
  });
});
