/**
 * Provenance labels in a real browser: a photo sent with the "Made with AI" disclosure, a photo
 * whose XMP says it is AI-generated, and one whose content credentials no longer verify, each
 * labelled in the recipient's chat; an AI-generated photo labelled in a channel; and the safety
 * console showing the label on a reported item. Files from ../shared/data/c2pa (see its MANIFEST).
 */
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import type { TestServer } from '../apps/server/test/harness.ts';
import { signUpModerator } from '../apps/server/test/safety-fixtures.ts';
import { c2paFixture, withBrokenSignature, withDigitalSourceType } from '../packages/media/test/provenance-fixtures.ts';
import { bubble, closeBrowserSuite, DESKTOP, openBrowserSuite, signedIn, skipBrowser } from './browser.ts';

describe('provenance labels', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite());
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('labels AI-generated and invalid-signature photos in the messenger, a channel and the console', { timeout: 240_000 }, async () => {
    const alice = await server.signUp();
    const bob = await server.signUp();
    const moderator = await signUpModerator(server);
    const direct = await alice.client.openDirect(bob.handle);
    const a = await signedIn(browser, server, alice, DESKTOP);
    const b = await signedIn(browser, server, bob, DESKTOP);
    await b.page.goto(`${server.url}/chats/${direct.id}`);

    // Alice discloses "made with AI" in the composer as she sends a plain photo.
    await a.page.goto(`${server.url}/chats/${direct.id}`);
    await a.page.locator('input[type="file"]').setInputFiles({ name: 'portrait.jpg', mimeType: 'image/jpeg', buffer: c2paFixture('no_manifest.jpg') });
    await a.page.getByLabel('Made with AI').selectOption('generated');
    await a.page.getByLabel('Message', { exact: true }).fill('my generated portrait');
    await a.page.getByRole('button', { name: 'Send', exact: true }).click();
    const disclosed = bubble(b.page, 'my generated portrait');
    await disclosed.getByRole('list', { name: 'Provenance' }).getByText('AI-generated', { exact: true }).waitFor({ timeout: 60_000 });

    // A photo whose own XMP says trainedAlgorithmicMedia, sent without any disclosure.
    await a.page.locator('input[type="file"]').setInputFiles({ name: 'model.jpg', mimeType: 'image/jpeg', buffer: await withDigitalSourceType(c2paFixture('no_manifest.jpg'), 'trainedAlgorithmicMedia') });
    await a.page.getByLabel('Message', { exact: true }).fill('straight from the model');
    await a.page.getByRole('button', { name: 'Send', exact: true }).click();
    await bubble(b.page, 'straight from the model').getByText('AI-generated', { exact: true }).waitFor({ timeout: 60_000 });

    // Credentials whose signature was broken after signing.
    await a.page.locator('input[type="file"]').setInputFiles({ name: 'forged.jpg', mimeType: 'image/jpeg', buffer: withBrokenSignature(c2paFixture('C.jpg')) });
    await a.page.getByLabel('Message', { exact: true }).fill('totally authentic');
    await a.page.getByRole('button', { name: 'Send', exact: true }).click();
    await bubble(b.page, 'totally authentic').getByText('Content credentials: C2PA Test Signing Cert — invalid signature').waitFor({ timeout: 60_000 });
    // A valid, edited one says whose credentials they are, and that it was edited.
    const edited = await alice.client.upload(c2paFixture('CA.jpg'), { filename: 'edited.jpg', contentType: 'image/jpeg' });
    await alice.client.waitForMedia(edited.id);
    await alice.client.send(direct.id, { text: 'colour fixed', media: [edited.id] });
    const fixed = bubble(b.page, 'colour fixed');
    await fixed.getByText('Content credentials: C2PA Test Signing Cert (unverified signer)', { exact: true }).waitFor({ timeout: 30_000 });
    await fixed.getByText('Edited', { exact: true }).waitFor();

    // In a channel: the subscriber sees the label on the admin's post.
    const channel = await alice.client.createConversation({ kind: 'channel', title: 'Synthetic daily', handle: `synth${Date.now().toString(36)}` });
    await bob.client.join(channel.id);
    const post = await alice.client.upload(await withDigitalSourceType(c2paFixture('no_manifest.jpg'), 'compositeWithTrainedAlgorithmicMedia'), { filename: 'post.jpg', contentType: 'image/jpeg' });
    await alice.client.waitForMedia(post.id);
    await alice.client.send(channel.id, { text: 'today’s collage', media: [post.id] });
    await b.page.goto(`${server.url}/chats/${channel.id}`);
    await bubble(b.page, 'today’s collage').getByText('Contains AI-generated parts', { exact: true }).waitFor({ timeout: 30_000 });

    // Bob reports the generated portrait as a deepfake; the moderator sees its label in the console.
    const sent = (await bob.client.history(direct.id)).messages.find((m) => m.text === 'my generated portrait')!;
    await bob.client.report({ message_id: sent.id, reason: 'deepfake' });
    const m = await signedIn(browser, server, moderator, DESKTOP);
    await m.page.getByRole('link', { name: 'Safety console' }).click();
    const review = m.page.getByRole('article', { name: 'Reported direct chat message' });
    await review.waitFor({ timeout: 20_000 });
    await review.getByRole('list', { name: 'Provenance' }).getByText('AI-generated', { exact: true }).waitFor();
  });
});
