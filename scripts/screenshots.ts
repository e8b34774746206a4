/**
 * Refreshes docs/screenshots/: starts a throwaway server (embedded SQLite), fills it with a small,
 * believable set of people (names and profile photos), chats, photos, a voice note, a pinned
 * message, a document and links, a channel and a report, then photographs the main screens in
 * Debian's Chromium at desktop and phone sizes (the phone with a touch screen). Run:
 * `npm run screenshots`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startTestServer } from '../apps/server/test/harness.ts';
import { DATA } from '../apps/server/test/safety-fixtures.ts';
import { DESKTOP, PHONE, SCREENSHOTS, buildWebApp, launchBrowser, screenshot, signedIn } from '../e2e/browser.ts';

const file = (...parts: string[]) => readFileSync(path.join(DATA, ...parts));

buildWebApp();
const server = await startTestServer({ dialect: 'sqlite' });
try {
  const amara = await server.signUp('amara');
  const ben = await server.signUp('ben');
  const chloe = await server.signUp('chloe');
  const dev = await server.signUp('dev');
  // Profiles: a display name and a photo each (shown in the chat list, chat headers and groups).
  const profiles: [typeof amara, string, string][] = [
    [amara, 'Amara Osei', 'FreshFlower.jpg'],
    [ben, 'Ben Carter', 'Aqua.jpg'],
    [chloe, 'Chloé Martin', 'TwoWings.jpg'],
    [dev, 'Dev Patel', 'Wood.jpg'],
  ];
  for (const [user, name, photo] of profiles) {
    await user.client.profiles.update({ display_name: name });
    await user.client.profiles.setPhoto(file('photos', photo), 'image/jpeg');
  }

  // A direct chat with a photo, a reply, a reaction and a voice note.
  const direct = await amara.client.openDirect('ben');
  await amara.client.send(direct.id, { text: 'Are we still on for the coast walk on Saturday?' });
  const yes = await ben.client.send(direct.id, { text: 'Yes! Meet at the station at 10?' });
  await amara.client.react(yes.id, '👍');
  // Pinned at the top of the chat, for both of them.
  await amara.client.pin(yes.id);
  const dune = await amara.client.upload(file('photos', 'Dune.jpg'), { filename: 'Dune.jpg', contentType: 'image/jpeg' });
  await amara.client.waitForMedia(dune.id);
  await amara.client.send(direct.id, { text: 'This is where we could have lunch', media: [dune.id] });
  const voice = await ben.client.upload(file('audio', 'complete.oga'), { filename: 'voice-note.oga', contentType: 'audio/ogg' });
  await ben.client.waitForMedia(voice.id);
  await ben.client.send(direct.id, { media: [voice.id] });
  await ben.client.send(direct.id, { text: 'Perfect, I will bring the flask', reply_to: yes.id });

  // A group with an album.
  const group = await chloe.client.createConversation({ kind: 'group', title: 'Climbing club', members: ['amara', 'ben', 'dev'] });
  await chloe.client.send(group.id, { text: 'Photos from Sunday at the crag 🧗' });
  const album: string[] = [];
  for (const name of ['Garden.jpg', 'GreenMeadow.jpg', 'YellowFlower.jpg', 'LadyBird.jpg']) {
    const up = await chloe.client.upload(file('photos', name), { filename: name, contentType: 'image/jpeg' });
    await chloe.client.waitForMedia(up.id);
    album.push(up.id);
  }
  await chloe.client.send(group.id, { media: album });
  await dev.client.send(group.id, { text: 'Great shots! Same time next week?' });
  // A route topo and a link: what the chat's "Media, links and docs" lists besides photos.
  const pdf = Buffer.from('%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n');
  const topo = await chloe.client.upload(pdf, { filename: 'crag-topo.pdf', contentType: 'application/pdf' });
  await chloe.client.waitForMedia(topo.id);
  await chloe.client.send(group.id, { text: 'The topo for the new routes', media: [topo.id] });
  await amara.client.send(group.id, { text: 'Weather looks good: https://example.com/forecast/crag', link_preview: false });

  // A channel Amara follows.
  const channel = await dev.client.createConversation({ kind: 'channel', title: 'Harbour news', handle: 'harbour' });
  await amara.client.join(channel.id);
  await dev.client.send(channel.id, { text: 'The ferry timetable changes on Monday: first departure 06:45.' });

  // A report for the safety console.
  const moderator = await server.signUp('sam');
  await server.db.db.updateTable('accounts').set({ role: 'moderator' }).where('id', '=', moderator.accountId).execute();
  const reported = await dev.client.upload(file('photos', 'Storm.jpg'), { filename: 'Storm.jpg', contentType: 'image/jpeg' });
  await dev.client.waitForMedia(reported.id);
  const bad = await dev.client.send(group.id, { text: 'look at this', media: [reported.id] });
  await amara.client.report({ message_id: bad.id, reason: 'ncii', note: 'This is a private photo of a friend, shared without asking her.' });
  const bank = await moderator.client.createBank({ name: 'StopNCII partner hashes', category: 'ncii', action: 'block', source: 'StopNCII' });
  await moderator.client.addSignalsFromFile(bank.id, file('photos', 'RainDrops.jpg'), { filename: 'RainDrops.jpg', label: 'case 1042' });
  // Someone tries to share a banked photo: it is refused, and the bank's match count shows it.
  const blocked = await dev.client.upload(file('photos', 'RainDrops.jpg'), { filename: 'drops.jpg', contentType: 'image/jpeg' });
  await dev.client.waitForMedia(blocked.id).catch(() => {});

  const browser = await launchBrowser();
  try {
    const desktop = await signedIn(browser, server, amara, DESKTOP);
    await desktop.page.getByRole('link', { name: /Ben Carter/ }).click();
    await desktop.page.getByRole('log', { name: 'Messages' }).locator('img').first().waitFor();
    await desktop.page.waitForTimeout(1500);
    await screenshot(desktop.page, 'messenger-desktop.png');
    await desktop.page.getByRole('link', { name: /^Climbing club/ }).click();
    await desktop.page.waitForTimeout(1500);
    await screenshot(desktop.page, 'messenger-group.png');
    // The group's media, links and docs.
    await desktop.page.getByRole('button', { name: 'Chat options' }).click();
    await desktop.page.getByRole('menuitem', { name: 'Media, links and docs' }).click();
    await desktop.page.locator('.gallery-tile img').first().waitFor();
    await desktop.page.waitForTimeout(1500);
    await screenshot(desktop.page, 'messenger-gallery.png');

    const phone = await signedIn(browser, server, ben, PHONE, { touch: true });
    await screenshot(phone.page, 'messenger-list-phone.png');
    await phone.page.getByRole('link', { name: /Amara Osei/ }).click();
    await phone.page.waitForTimeout(1500);
    await screenshot(phone.page, 'messenger-phone.png');
    // Press and hold a message: its actions.
    const held = phone.page.locator('.bubble-row', { hasText: 'This is where we could have lunch' }).locator('.bubble');
    const box = (await held.boundingBox())!;
    const cdp = await phone.context.newCDPSession(phone.page);
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: box.x + 40, y: box.y + box.height / 2, id: 1 }] });
    await phone.page.getByRole('menu').waitFor();
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
    await phone.page.waitForTimeout(300);
    await screenshot(phone.page, 'messenger-phone-actions.png');

    const reader = await signedIn(browser, server, amara, PHONE, { touch: true });
    await reader.page.getByRole('link', { name: /^Harbour news/ }).click();
    await reader.page.waitForTimeout(800);
    await screenshot(reader.page, 'messenger-channel-phone.png');

    const console_ = await signedIn(browser, server, moderator, DESKTOP);
    await console_.page.goto(`${server.url}/console`);
    await console_.page.waitForTimeout(1500);
    await screenshot(console_.page, 'console-reviews.png');
    await console_.page.goto(`${server.url}/console/banks`);
    await console_.page.waitForTimeout(1000);
    await screenshot(console_.page, 'console-banks.png');
    await console_.page.goto(`${server.url}/console/audit`);
    await console_.page.waitForTimeout(1000);
    await screenshot(console_.page, 'console-audit.png');

    // The public protection page, signed out, on a phone: before sending, then the case reference.
    const visitor = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1 });
    const protect = await visitor.newPage();
    await protect.goto(`${server.url}/protect`);
    await protect.getByLabel('Choose images to protect').setInputFiles(path.join(DATA, 'photos', 'Dune.jpg'));
    await protect.getByText('1 fingerprint ready to send.').waitFor({ timeout: 60_000 });
    await protect.screenshot({ path: path.join(SCREENSHOTS, 'protect.png'), fullPage: true });
    await protect.getByRole('button', { name: 'Send fingerprints and protect' }).click();
    await protect.getByTestId('case-reference').waitFor({ timeout: 30_000 });
    await protect.screenshot({ path: path.join(SCREENSHOTS, 'protect-reference.png'), fullPage: true });
    console.log('screenshots saved in docs/screenshots/');
  } finally {
    await browser.close();
  }
} finally {
  await server.close();
}
