/**
 * The safety console in a real browser (Debian's Chromium through playwright-core), signed in as a
 * moderator: create a bank, add a photo to it by file, export it; watch its match count rise when
 * someone uploads a copy; see a member's report arrive in the queue on its own, blurred; reveal one
 * item at a time; take it down and find the takedown and its figures, then the audit log filtered
 * by action. Checks the pages fit a phone and break no CSP rule. (Screenshots: `npm run screenshots`.)
 *
 * Needs /usr/bin/chromium (apt-get install -y chromium); skipped with the reason when it is absent.
 * Builds apps/web like protect.test.ts, unless MMD_WEB_DIST names a build to serve instead.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { type TestServer, eventually } from '../apps/server/test/harness.ts';
import { DATA, browserHashes, jobResult, signUpModerator, smallPhoto, uploadAndWait } from '../apps/server/test/safety-fixtures.ts';
import { closeBrowserSuite, openBrowserSuite, skipBrowser } from './browser.ts';

const PHOTO = path.join(DATA, 'photos', 'Dune.jpg');
const BANK = 'Console test bank';

const skip = skipBrowser
  ? skipBrowser
  : !existsSync(PHOTO)
    ? `browser test not run: test photo not found at ${PHOTO}`
    : false;

/** The number under a label in a row of figures (<dt>label</dt><dd>n</dd>). */
async function figure(scope: Locator, label: string): Promise<string> {
  const dd = scope
    .locator('.figures > div')
    .filter({ has: scope.page().locator('dt', { hasText: label }) })
    .locator('dd');
  return ((await dd.first().textContent()) ?? '').trim();
}

async function figureBecomes(scope: Locator, label: string, value: string, ms = 20_000) {
  try {
    await eventually(`${label} to show ${value}`, async () => (await figure(scope, label)) === value, ms);
  } catch {
    assert.fail(`${label} shows ${await figure(scope, label)}, not ${value}`);
  }
}

/** Nothing in the console wider than the window: no sideways scrolling on a phone. */
async function fitsWidth(page: Page, what: string) {
  const wide = await page.evaluate(() =>
    [...document.querySelectorAll('.console, .console *')]
      .filter(
        (e) =>
          e.getBoundingClientRect().right > window.innerWidth + 0.5 && !e.closest('.table-wrap, .detail'),
      )
      .map(
        (e) =>
          `${e.tagName.toLowerCase()}.${e.className} (${Math.round(e.getBoundingClientRect().right)} px)`,
      ),
  );
  assert.deepEqual(wide, [], `${what}: wider than the window`);
}

describe('the safety console', { skip }, () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('moderates from bank to takedown: matches, a blurred queue, one reveal at a time, figures and the audit log', {
    timeout: 240_000,
  }, async () => {
    const [mod, alice, bob] = await Promise.all([signUpModerator(server), server.signUp(), server.signUp()]);
    // A peer platform this instance shares takedowns with (unreachable here: its answer stays "not delivered").
    const admin = await signUpModerator(server, 'admin');
    const peerKey = generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!;
    await admin.client.connectPeer({ name: 'Partner platform', base_url: 'https://partner.invalid', public_key: peerKey, share_categories: ['ncii', 'other'] });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 1,
      acceptDownloads: true,
    });
    await context.addInitScript((token) => window.localStorage.setItem('mmd.token', token), mod.token);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    const cspViolations: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (message) => {
      if (message.type() === 'error' && /Content Security Policy/i.test(message.text()))
        cspViolations.push(message.text());
    });

    // A bank, made in the console, with a photo added by file.
    await page.goto(`${server.url}/console/banks`);
    await page.getByRole('heading', { name: 'Hash banks' }).waitFor();
    const create = page.getByRole('complementary', { name: 'Create a bank' });
    await create.getByLabel('Name').fill(BANK);
    await create.getByLabel('Category').selectOption('ncii');
    await create.getByLabel('When an upload matches').selectOption('blur');
    await create.getByRole('button', { name: 'Create bank' }).click();
    const bank = page.getByRole('article', { name: BANK });
    await bank.waitFor();
    assert.equal(await figure(bank, 'Signals'), '0');
    assert.equal(await figure(bank, 'Matches'), '0');
    await bank.getByText('Add signals, import or export').click();
    await bank.getByLabel('File to hash').setInputFiles(PHOTO);
    await bank.getByRole('button', { name: 'Hash and add' }).click();
    await bank.getByText('Dune.jpg: Added 3 signals.').waitFor({ timeout: 30_000 });
    await figureBecomes(bank, 'Signals', '3');

    // Exported as a download.
    await bank.getByLabel('Export format').selectOption('json');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      bank.getByRole('button', { name: 'Export', exact: true }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'Console_test_bank.json.json');
    const exported = JSON.parse(readFileSync(await download.path(), 'utf8')) as {
      format: string;
      signals: { type: string }[];
    };
    assert.equal(exported.format, 'mmd-bank');
    assert.deepEqual(exported.signals.map((s) => s.type).sort(), ['md5', 'pdq', 'sha256']);

    // A partner's list, imported from an HMA file through the file picker, and a pasted hash.
    await mod.client.createBank({
      name: 'Partner hash list',
      category: 'terrorism',
      source: 'a partner platform',
      action: 'block',
    });
    const partner = page.getByRole('article', { name: 'Partner hash list' });
    await partner.waitFor();
    await partner.getByText('Add signals, import or export').click();
    await partner.getByLabel('Import format').selectOption('hma');
    await partner.getByLabel('Bank file').setInputFiles({
      name: 'partner.txt',
      mimeType: 'text/plain',
      buffer: Buffer.from(
        `pdq ${'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22'}\nvideo_md5 ${'b8ed4f8b2ec3c6f3e2b2a1dcd2e1a6f0'}\nurl https://example.com/x\n`,
      ),
    });
    await partner.getByRole('button', { name: 'Import', exact: true }).click();
    await partner
      .getByText('partner.txt: Added 2 signals. Looking for copies already shared… 1 entry skipped')
      .waitFor();
    await partner.getByLabel('Hash type').selectOption('sha256');
    await partner.getByLabel('Hashes, one per line').fill('not-a-hash');
    await partner.getByRole('button', { name: 'Add hashes' }).click();
    await partner.getByText(/^Not a sha256 hash/).waitFor();
    await partner.getByLabel('Hashes, one per line').fill('ab'.repeat(32));
    await partner.getByRole('button', { name: 'Add hashes' }).click();
    await partner.getByText('Added 1 signal. Looking for copies already shared…').waitFor();
    await figureBecomes(partner, 'Signals', '3');
    await partner.getByText('Add signals, import or export').click();

    // Someone shares a smaller copy of the photo: screening matches it, and the count rises on its own.
    const copy = await uploadAndWait(alice.client, await smallPhoto('Dune.jpg'), 'dune-small.jpg');
    assert.equal(copy.blurred, true, 'the copy matched the blur bank');
    await figureBecomes(bank, 'Matches', '1');
    assert.notEqual(await figure(bank, 'Last match'), 'Never');
    await page.evaluate(() => window.scrollTo(0, 0));

    // The queue is open when the report comes in; it appears without a reload.
    await page
      .getByRole('navigation', { name: 'Safety console sections' })
      .getByRole('link', { name: 'Review queue' })
      .click();
    await page.getByText('Nothing to review. New reports appear here on their own.').waitFor();
    const other = await uploadAndWait(alice.client, await smallPhoto('GreenMeadow.jpg'), 'meadow.jpg');
    const chat = await alice.client.openDirect(bob.handle);
    const message = await alice.client.send(chat.id, { text: 'remember these?', media: [copy.id, other.id] });
    await bob.client.report({
      message_id: message.id,
      reason: 'ncii',
      note: 'This is me. I never agreed to this.',
    });
    const review = page.getByRole('article', { name: 'Reported direct chat message' });
    await review.waitFor({ timeout: 15_000 });
    await review.getByText('This is me. I never agreed to this.').waitFor();
    assert.ok(await review.getByText(`@${alice.handle}`).isVisible());
    assert.ok(await review.getByText('remember these?').isVisible());
    assert.ok(await review.getByText('Intimate image without consent').isVisible());

    // Blurred by default: two blurred previews from blob: URLs, nothing revealed.
    const blurred = review.getByRole('img', { name: /^Blurred preview/ });
    const revealed = page.getByRole('img', { name: /^Revealed preview/ });
    await eventually('both blurred previews', async () => (await blurred.count()) === 2, 10_000);
    for (const img of await blurred.all()) {
      await eventually('the blurred preview to load', () =>
        img.evaluate((el: HTMLImageElement) => el.complete && el.naturalWidth > 0),
      );
      assert.match((await img.getAttribute('src')) ?? '', /^blob:/);
    }
    assert.equal(await revealed.count(), 0);

    // One revealed at a time; revealing the second hides the first; Hide hides it.
    await review.getByRole('button', { name: 'Reveal image 1' }).click();
    await review.getByRole('img', { name: 'Revealed preview of image 1' }).waitFor();
    assert.equal(await revealed.count(), 1);
    await review.getByRole('button', { name: 'Reveal image 2' }).click();
    await review.getByRole('img', { name: 'Revealed preview of image 2' }).waitFor();
    assert.equal(await revealed.count(), 1, 'only one item is revealed at a time');
    await review.getByRole('img', { name: 'Blurred preview of image 1' }).waitFor();
    await review.getByRole('button', { name: 'Hide image 2' }).click();
    await eventually('nothing revealed', async () => (await revealed.count()) === 0);
    const reveals = await mod.client.audit({ action: 'media.revealed', actor: mod.accountId });
    assert.deepEqual(
      reveals.entries.map((e) => e.subject_id).sort(),
      [copy.id, other.id].sort(),
      'each reveal was audited',
    );

    // The queue's tabs work from the keyboard.
    await page.getByRole('tab', { name: 'Open' }).focus();
    await page.keyboard.press('ArrowRight');
    await eventually(
      'the escalated tab',
      async () =>
        (await page.getByRole('tab', { name: 'Escalated' }).getAttribute('aria-selected')) === 'true',
    );
    await page.keyboard.press('ArrowLeft');
    await review.waitFor();

    // One click takes it down; the figures are announced.
    await review.getByLabel('Note for the record (optional)').fill('Non-consensual intimate image');
    await review.getByRole('button', { name: 'Take down' }).click();
    const outcome = page.getByRole('status').filter({ hasText: 'Taken down everywhere' });
    await outcome.waitFor({ timeout: 30_000 });
    assert.equal(await figure(outcome, 'Copies found'), '2');
    assert.equal(await figure(outcome, 'Copies removed'), '2');
    assert.equal(await figure(outcome, 'Messages removed'), '1');
    assert.equal(await figure(outcome, 'Conversations'), '1');
    assert.match(await figure(outcome, 'Duration'), /^\d+(\.\d)? (ms|s)$/);
    await review.waitFor({ state: 'detached' });
    assert.equal((await bob.client.message(message.id)).deleted, true);

    // The takedown is on record with the same figures.
    await page
      .getByRole('navigation', { name: 'Safety console sections' })
      .getByRole('link', { name: 'Takedowns' })
      .click();
    const record = page.getByRole('article', { name: 'Non-consensual intimate image' });
    await record.waitFor();
    await record.getByText('Done', { exact: true }).waitFor();
    assert.equal(await figure(record, 'Copies found'), '2');
    assert.equal(await figure(record, 'Messages removed'), '1');
    assert.ok(await record.getByText(`by @${mod.handle}`).isVisible());
    // Shared with the peer platform, whose answer shows on the record; withdrawing it is one click.
    await record.getByRole('heading', { name: 'Shared with peer platforms' }).waitFor();
    assert.ok(await record.getByText('Partner platform: Not delivered yet').isVisible());
    page.once('dialog', (dialog) => void dialog.accept());
    await record.getByRole('button', { name: 'Withdraw from peers' }).click();
    await record.getByRole('heading', { name: 'Withdrawn from peer platforms' }).waitFor();

    // A manual takedown by pasted hash, with its reason.
    const manual = page.getByRole('complementary', { name: 'Take something down' });
    await manual.getByLabel('Pasted hashes').check();
    await manual.getByLabel('Hash type').selectOption('md5');
    await manual.getByLabel('Hashes, one per line').fill('0123456789abcdef0123456789abcdef');
    await manual.getByLabel('Reason (for the record)').fill('Known spam attachment');
    await manual.getByRole('button', { name: 'Take down everywhere' }).click();
    await manual.getByText(/^Done: 0 copies found/).waitFor({ timeout: 30_000 });
    await page
      .getByRole('article', { name: 'Known spam attachment' })
      .getByText('Done', { exact: true })
      .waitFor();

    // The audit log, filtered by action.
    await page
      .getByRole('navigation', { name: 'Safety console sections' })
      .getByRole('link', { name: 'Audit log' })
      .click();
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await page.getByLabel('Action').selectOption('media.revealed');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('2 entries matching the filters.').waitFor();
    const rows = page.locator('.audit-table tbody tr');
    assert.equal(await rows.count(), 2);
    for (const row of await rows.all()) {
      assert.ok(await row.getByText('Media revealed').isVisible());
      assert.ok(await row.getByText(`@${mod.handle}`).isVisible());
    }
    await page.getByLabel('Action').selectOption('takedown');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('2 entries matching the filters.').waitFor();

    // Every section fits a phone.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const section of ['reviews', 'cases', 'banks', 'takedowns', 'audit']) {
      await page.goto(`${server.url}/console/${section}`);
      await page.getByRole('heading', { level: 2 }).first().waitFor();
      await page.waitForLoadState('networkidle');
      await fitsWidth(page, section);
    }

    assert.deepEqual(cspViolations, [], 'no CSP violations');
    assert.deepEqual(pageErrors, []);
    await context.close();
  });

  it('shows a protection case with the upload it held, blurred, and confirms it', { timeout: 180_000 }, async () => {
    const [mod, alice, bob] = await Promise.all([signUpModerator(server), server.signUp(), server.signUp()]);
    const image = await smallPhoto('LadyBird.jpg', 700);
    const opened = await server.anonymous.protect({ images: [await browserHashes(image)].map((h) => ({ pdq: h.pdq, quality: h.quality, robust: h.robust })) });
    const submitted = await server.db.db.selectFrom('safety_audit').select('detail').where('subject_id', '=', opened.reference).executeTakeFirstOrThrow();
    await jobResult(server, (JSON.parse(submitted.detail) as { sweep_job_id: string }).sweep_job_id);
    const held = await uploadAndWait(alice.client, image);
    assert.equal(held.status, 'held');
    const chat = await alice.client.openDirect(bob.handle);
    await alice.client.send(chat.id, { media: [held.id] });

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
    await context.addInitScript((token) => window.localStorage.setItem('mmd.token', token), mod.token);
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`${server.url}/console/cases`);
    await page.getByRole('heading', { name: 'Protection cases' }).waitFor();
    const card = page.locator(`[data-case="${opened.reference}"]`);
    await card.waitFor({ timeout: 20_000 });
    assert.ok(await card.getByText('New upload, held').isVisible());
    await card.getByRole('img', { name: /Blurred preview/ }).waitFor();
    await card.getByRole('button', { name: 'Confirm: take down and block' }).click();
    // Whatever the page says first (the outcome, or an error) is what the assertion shows.
    await page.getByText(/Case confirmed|could not|error/i).first().waitFor({ timeout: 30_000 }).catch(() => {});
    const shown = (await page.locator('.console').textContent()) ?? '';
    assert.match(shown, /Case confirmed: 1 copy removed, its hashes now block/, shown.slice(0, 2000));
    assert.equal((await server.anonymous.protectStatus(opened.reference)).status, 'action_taken');
    assert.equal((await alice.client.media(held.id).catch(() => null))?.status ?? 'gone', 'gone', 'the held upload was taken down');
    assert.deepEqual(pageErrors, []);
    await context.close();
  });
});
