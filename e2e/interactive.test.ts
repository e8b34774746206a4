/**
 * Interactive messages in Chromium against the real server: a bot (driven through the SDK with its
 * token) sends buttons, quick replies, a list, a carousel of cards and a form; a person acts on
 * them with the mouse, the keyboard and touch, and the test checks both what the person sees and
 * what the server recorded. People make polls in the composer's poll creator and vote live; a
 * quiz reveals its answer; a business reads its form's results.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Message, MmdClient, SyncEvent } from '@mmd/sdk';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { eventually, type TestServer, type User } from '../apps/server/test/harness.ts';
import { DATA } from '../apps/server/test/safety-fixtures.ts';
import { bubble, closeBrowserSuite, DESKTOP, messageLog, openBrowserSuite, PHONE, signedIn, skipBrowser } from './browser.ts';

/** A message in the open chat, by its id. */
function row(page: Page, m: Message) {
  return messageLog(page).locator(`[data-message-id="${m.id}"]`);
}

/** A phone with a touch screen, signed in. */
async function touchPhone(browser: Browser, server: TestServer, user: User): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: PHONE, deviceScaleFactor: 1, hasTouch: true, isMobile: true });
  await context.addInitScript((token) => {
    if (!window.localStorage.getItem('mmd.token')) window.localStorage.setItem('mmd.token', token);
  }, user.token);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(server.url);
  await page.getByRole('heading', { name: 'Chats' }).waitFor();
  return { context, page, errors };
}

/**
 * A bot's event loop: long-polls its updates, keeps every event, and answers callback queries
 * with what `answers` says for their data.
 */
function runBot(client: MmdClient, answers: Record<string, { text?: string; alert?: boolean; url?: string }>) {
  const events: SyncEvent[] = [];
  let stopped = false;
  const loop = (async () => {
    let cursor = await client.updatesState();
    while (!stopped) {
      const page = await client.updates({ cursor, timeout: 1 }).catch(() => null);
      if (!page) continue;
      cursor = page.cursor;
      for (const event of page.events) {
        events.push(event);
        if (event.type === 'callback.query') {
          const answer = answers[event.data.data];
          if (answer) await client.answerCallback(event.data.id, answer).catch(() => {});
        }
      }
    }
  })();
  return {
    events,
    of: <T extends SyncEvent['type']>(type: T) => events.filter((e): e is Extract<SyncEvent, { type: T }> => e.type === type),
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

describe('interactive messages in the web app', { skip: skipBrowser }, () => {
  let server: TestServer;
  let browser: Browser;
  before(async () => {
    ({ server, browser } = await openBrowserSuite({ interactiveCallbackWaitMs: 10_000, pollCoalesceMs: 200 }));
  });
  after(() => closeBrowserSuite({ server, browser }));

  it('a bot’s buttons, quick replies, list and carousel work by mouse, keyboard and touch', { timeout: 240_000 }, async () => {
    const bot = await server.signUp(undefined, { kind: 'bot' });
    const ana = await server.signUp();
    const chat = await ana.client.openDirect(bot.handle);
    const events = runBot(bot.client, {
      yes: { text: 'Saved your yes' },
      alert: { text: 'Are you sure? This cannot be undone.', alert: true },
      map: { text: 'Here is the map', url: 'https://maps.example.com/route' },
    });
    try {
      const withButtons = await bot.client.sendButtons(chat.id, 'Pick one', [
        [
          { type: 'callback', text: 'Yes', data: 'yes' },
          { type: 'callback', text: 'Danger', data: 'alert' },
          { type: 'callback', text: 'Map', data: 'map' },
        ],
        [{ type: 'url', text: 'Read the docs', url: 'https://docs.example.com/start' }],
        [
          { type: 'reply', text: 'Thanks!' },
          { type: 'copy', text: 'Copy code', copy_text: 'ABC-123' },
        ],
      ]);

      const a = await signedIn(browser, server, ana, DESKTOP);
      await a.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
      await a.page.goto(`${server.url}/chats/${chat.id}`);
      const buttons = row(a.page, withButtons);
      await buttons.waitFor();
      // The bot is labelled as one, on its messages and in the chat's header.
      await buttons.getByText('bot', { exact: true }).waitFor();
      await a.page.getByRole('heading', { name: `@${bot.handle} bot`, level: 2 }).waitFor();

      // Callback: the bot hears the tap and its answer shows as a notice.
      await buttons.getByRole('button', { name: 'Yes' }).click();
      await a.page.getByRole('status').getByText('Saved your yes').waitFor();
      const [query] = events.of('callback.query');
      assert.equal(query?.data.data, 'yes');
      assert.equal(query?.data.from.id, ana.accountId);

      // An answer marked alert is a dialog to dismiss.
      await buttons.getByRole('button', { name: 'Danger' }).click();
      const alert = a.page.getByRole('alertdialog', { name: `@${bot.handle} says` });
      await alert.getByText('Are you sure? This cannot be undone.').waitFor();
      await alert.getByRole('button', { name: 'OK' }).click();
      await alert.waitFor({ state: 'detached' });

      // An answer with a URL offers the link (its domain shown, no window.opener) instead of navigating.
      await buttons.getByRole('button', { name: 'Map' }).click();
      const mapLink = alert.getByRole('link', { name: /maps\.example\.com/ });
      assert.equal(await mapLink.getAttribute('href'), 'https://maps.example.com/route');
      assert.match((await mapLink.getAttribute('rel')) ?? '', /noopener/);
      await alert.getByText('Here is the map').waitFor();
      await a.page.keyboard.press('Escape');
      await alert.waitFor({ state: 'detached' });

      // URL: a link that shows its domain and opens in a new tab without window.opener.
      const link = buttons.getByRole('link', { name: /Read the docs.*docs\.example\.com/ });
      assert.equal(await link.getAttribute('href'), 'https://docs.example.com/start');
      assert.equal(await link.getAttribute('target'), '_blank');
      assert.match((await link.getAttribute('rel')) ?? '', /noopener/);

      // Copy: the text lands on the clipboard.
      await buttons.getByRole('button', { name: 'Copy code' }).click();
      await a.page.getByText('Copied “ABC-123”').waitFor();
      assert.equal(await a.page.evaluate(() => navigator.clipboard.readText()), 'ABC-123');

      // Reply (by keyboard): the label goes out as Ana's message, replying to the buttons.
      await buttons.getByRole('button', { name: 'Thanks!' }).focus();
      await a.page.keyboard.press('Enter');
      const thanks = bubble(a.page, 'Thanks!');
      await thanks.waitFor();
      assert.match((await thanks.locator('.quote').textContent()) ?? '', /Pick one/);
      const botSaw = await eventually('the bot gets the reply', () =>
        events.of('message.created').find((e) => e.data.text === 'Thanks!' && e.data.sender_id === ana.accountId),
      );
      assert.equal(botSaw.data.reply_to, withButtons.id);

      // Quick replies take the composer's place; a one-time keyboard goes once used.
      await bot.client.send(chat.id, { text: 'How was it?', quick_replies: { rows: [[{ text: 'Good' }, { text: 'Bad' }]], one_time: true } });
      const keyboard = a.page.getByRole('group', { name: `Quick replies from @${bot.handle}` });
      await keyboard.waitFor();
      assert.equal(await a.page.getByLabel('Message', { exact: true }).count(), 0, 'the text field gave way to the keyboard');
      await keyboard.getByRole('button', { name: 'Good' }).click();
      await bubble(a.page, 'Good').waitFor();
      await keyboard.waitFor({ state: 'detached' });
      await a.page.getByLabel('Message', { exact: true }).waitFor();
      await eventually('the bot gets “Good”', () => events.of('message.created').some((e) => e.data.text === 'Good'));

      // A persistent keyboard can be put away to type, and comes back after; a removal ends it.
      await bot.client.send(chat.id, { text: 'Menu', quick_replies: { rows: [[{ text: 'Order' }], [{ text: 'Help' }]], persistent: true, placeholder: 'Or ask anything' } });
      await keyboard.getByRole('button', { name: 'Order' }).waitFor();
      await a.page.getByRole('button', { name: 'Type a message instead' }).click();
      const field = a.page.getByLabel('Message', { exact: true });
      assert.equal(await field.getAttribute('placeholder'), 'Or ask anything');
      await field.fill('Do you deliver?');
      await field.press('Enter');
      await bubble(a.page, 'Do you deliver?').waitFor();
      await keyboard.getByRole('button', { name: 'Help' }).waitFor();
      await bot.client.send(chat.id, { text: 'Keyboard gone', quick_replies: { remove: true } });
      await keyboard.waitFor({ state: 'detached' });
      await field.waitFor();

      // A list opens as a sheet; a row picked by keyboard becomes Ana's message; the bot hears which.
      const list = await bot.client.sendList(chat.id, {
        button: 'Sizes',
        sections: [
          { title: 'Coffee', rows: [{ id: 'small', title: 'Small', description: '8 oz, one shot' }, { id: 'large', title: 'Large', description: '16 oz, two shots' }] },
          { title: 'Tea', rows: [{ id: 'tea', title: 'Pot of tea' }] },
        ],
      }, { text: 'Choose a size' });
      await row(a.page, list).getByRole('button', { name: 'Sizes' }).click();
      const sheet = a.page.getByRole('dialog', { name: 'Sizes' });
      await sheet.getByRole('heading', { name: 'Coffee' }).waitFor();
      await sheet.getByRole('button', { name: /^Large/ }).focus();
      await a.page.keyboard.press('Enter');
      await sheet.waitFor({ state: 'detached' });
      await bubble(a.page, 'Large').waitFor();
      const selected = await eventually('list.selected', () => events.of('list.selected')[0]);
      assert.equal(selected.data.row_id, 'large');

      // Cards: a carousel that snaps, with a media header through the media views.
      const photo = await bot.client.upload(readFileSync(path.join(DATA, 'photos', 'Dune.jpg')), { filename: 'Dune.jpg', contentType: 'image/jpeg' });
      await bot.client.waitForMedia(photo.id);
      const cards = await bot.client.sendCards(chat.id, [
        { media_id: photo.id, title: 'Dune walk', description: 'Two hours over the sand', buttons: [{ type: 'callback', text: 'Book the walk', data: 'yes' }] },
        { title: 'City tour', description: 'Old town and harbour' },
        { title: 'Boat trip', buttons: [{ type: 'url', text: 'Timetable', url: 'https://boats.example.com/' }] },
      ]);
      const carousel = row(a.page, cards).getByRole('region', { name: '3 cards' });
      await carousel.waitFor();
      await carousel.locator('img.media-img.loaded').waitFor({ timeout: 30_000 });
      const track = carousel.locator('.ic-track');
      assert.equal(await track.evaluate((el) => getComputedStyle(el).scrollSnapType), 'x mandatory');
      await carousel.getByRole('button', { name: 'Next card' }).click();
      await carousel.getByText('2 / 3').waitFor();
      await carousel.getByRole('button', { name: 'Book the walk' }).click();
      await eventually('the card’s callback reaches the bot', () => events.of('callback.query').some((e) => e.data.message_id === cards.id));
      await a.page.getByRole('status').getByText('Saved your yes').waitFor();
      assert.deepEqual(a.errors, []);
      await a.context.close();

      // On a touch phone: the carousel scrolls by swipe (scroll-snap), a card's button by tap.
      const p = await touchPhone(browser, server, ana);
      await p.page.goto(`${server.url}/chats/${chat.id}`);
      const phoneCarousel = row(p.page, cards).getByRole('region', { name: '3 cards' });
      await phoneCarousel.waitFor();
      await phoneCarousel.locator('.ic-track').evaluate((el) => el.scrollTo({ left: el.scrollWidth, behavior: 'instant' }));
      await phoneCarousel.getByText('3 / 3').waitFor();
      await phoneCarousel.getByRole('link', { name: /Timetable/ }).waitFor();
      const before = events.of('callback.query').length;
      await row(p.page, withButtons).getByRole('button', { name: 'Yes' }).tap();
      await p.page.getByRole('status').getByText('Saved your yes').waitFor();
      assert.equal(events.of('callback.query').length, before + 1);
      assert.deepEqual(p.errors, []);
      await p.context.close();
    } finally {
      await events.stop();
    }
  });

  it('people make polls in the composer and vote live (small events, no refetch); voters, quiz reveal, close', { timeout: 240_000 }, async () => {
    const ana = await server.signUp();
    const ben = await server.signUp();
    const group = await ana.client.createConversation({ kind: 'group', title: 'Lunch club', members: [ben.handle] });
    const a = await signedIn(browser, server, ana, DESKTOP);
    await a.page.goto(`${server.url}/chats/${group.id}`);
    await messageLog(a.page).waitFor();

    // The poll creator: question, three options, public.
    await a.page.getByRole('button', { name: 'Create a poll' }).click();
    const creator = a.page.getByRole('dialog', { name: 'New poll' });
    await creator.getByLabel('Question').fill('Where do we eat on Friday?');
    await creator.getByLabel('Option 1', { exact: true }).fill('Pizza');
    await creator.getByLabel('Option 2', { exact: true }).fill('Soup');
    // Too few filled options is refused before sending.
    await creator.getByRole('button', { name: 'Add an option' }).click();
    await creator.getByRole('button', { name: 'Send poll' }).click();
    await creator.getByText('Fill in every option').waitFor();
    await creator.getByLabel('Option 3', { exact: true }).fill('Noodles');
    await creator.getByRole('checkbox', { name: /Anonymous/ }).uncheck();
    // Closes tomorrow at noon, local time.
    const tomorrow = new Date(Date.now() + 86_400_000);
    tomorrow.setHours(12, 0, 0, 0);
    const local = `${tomorrow.getFullYear()}-${String(tomorrow.getMonth() + 1).padStart(2, '0')}-${String(tomorrow.getDate()).padStart(2, '0')}T12:00`;
    await creator.getByLabel('Closes at (optional)').fill(local);
    await creator.getByRole('button', { name: 'Send poll' }).click();
    await creator.waitFor({ state: 'detached' });
    const polls = await eventually('the poll on the server', async () => (await ana.client.history(group.id, { type: 'poll' })).messages[0]);
    assert.deepEqual(
      { question: polls.poll?.question, options: polls.poll?.options.map((o) => o.text), anonymous: polls.poll?.anonymous, multiple: polls.poll?.multiple, quiz: polls.poll?.quiz },
      { question: 'Where do we eat on Friday?', options: ['Pizza', 'Soup', 'Noodles'], anonymous: false, multiple: false, quiz: null },
    );
    // Chromium and Node share the machine's time zone here.
    assert.equal(polls.poll?.closes_at, tomorrow.getTime());
    const aPoll = row(a.page, polls);
    await aPoll.getByText('Public poll').waitFor();

    // Ana votes with a click; Ben, on a touch phone, with a tap.
    await aPoll.getByRole('button', { name: 'Pizza' }).click();
    await aPoll.getByText('100%').waitFor();
    const b = await touchPhone(browser, server, ben);
    await b.page.goto(`${server.url}/chats/${group.id}`);
    const bPoll = row(b.page, polls);
    await bPoll.getByRole('button', { name: 'Soup' }).waitFor();

    // While Ben votes, Ana's bars move from the small poll.updated event alone: her page asks the
    // server for no message.
    const fetched: string[] = [];
    a.page.on('request', (request) => {
      if (/\/v1\/(messages|conversations\/[^/]+\/messages)/.test(request.url()) && request.method() === 'GET') fetched.push(request.url());
    });
    await bPoll.getByRole('button', { name: 'Soup' }).tap();
    await bPoll.getByRole('button', { name: /Soup.*100%|Soup.*50%/ }).waitFor();
    await aPoll.getByText('2 voters').waitFor();
    assert.equal(await aPoll.getByRole('button', { name: /^Pizza/ }).locator('.poll-pct').textContent(), '50%');
    assert.equal(await aPoll.getByRole('button', { name: /^Soup/ }).locator('.poll-pct').textContent(), '50%');
    assert.deepEqual(fetched, [], 'a vote elsewhere refetches nothing');
    assert.deepEqual((await ben.client.message(polls.id)).poll?.my_votes, [1]);

    // Ben changes his mind by tapping another row; then "who voted" names each voter.
    await bPoll.getByRole('button', { name: /^Noodles/ }).tap();
    await eventually('Ben’s vote moved', async () => (await ben.client.message(polls.id)).poll?.my_votes[0] === 2);
    await aPoll.getByRole('button', { name: 'View votes' }).click();
    const votes = a.page.getByRole('dialog', { name: 'Votes' });
    await votes.getByRole('region', { name: 'Pizza' }).getByText(`@${ana.handle}`).waitFor();
    await votes.getByRole('region', { name: 'Noodles' }).getByText(`@${ben.handle}`).waitFor();
    await a.page.keyboard.press('Escape');
    await votes.waitFor({ state: 'detached' });

    // Ben takes his vote back; Ana sees one voter again.
    await bPoll.getByRole('button', { name: 'Retract vote' }).tap();
    await aPoll.getByText(/^1 voter ·/).waitFor();
    await bPoll.getByRole('button', { name: 'Soup' }).waitFor();

    // Ana closes her poll; Ben sees it closed, with results and no way to vote.
    await aPoll.getByRole('button', { name: 'Close poll' }).click();
    await bPoll.getByText(/Closed/).waitFor();
    assert.equal(await bPoll.getByRole('button', { name: 'Soup' }).count(), 0);
    assert.equal((await ana.client.message(polls.id)).poll?.closed, true);

    // A quiz: Ben answers wrong (by keyboard on a several-answers poll first, then the quiz by tap);
    // the right answer and the explanation appear.
    const several = await ana.client.sendPoll(group.id, { question: 'Which days suit you?', options: ['Mon', 'Tue', 'Wed'], multiple: true });
    const bSeveral = row(b.page, several);
    await bSeveral.getByRole('checkbox', { name: 'Mon' }).check();
    await bSeveral.getByRole('checkbox', { name: 'Wed' }).focus();
    await b.page.keyboard.press('Space');
    await bSeveral.getByRole('button', { name: 'Vote' }).focus();
    await b.page.keyboard.press('Enter');
    await bSeveral.getByText('1 voter', { exact: true }).waitFor();
    assert.deepEqual((await ben.client.message(several.id)).poll?.my_votes, [0, 2]);

    // The quiz is made in the creator: the right answer ticked beside its option, an explanation.
    await a.page.getByRole('button', { name: 'Create a poll' }).click();
    await creator.getByLabel('Question').fill('How many legs does a spider have?');
    await creator.getByLabel('Option 1', { exact: true }).fill('Six');
    await creator.getByLabel('Option 2', { exact: true }).fill('Eight');
    await creator.getByLabel('Option 2', { exact: true }).press('Enter');
    await creator.getByLabel('Option 3', { exact: true }).fill('Ten');
    await creator.getByRole('checkbox', { name: /Quiz/ }).check();
    await creator.getByRole('button', { name: 'Send poll' }).click();
    await creator.getByText('Pick the right answer for the quiz.').waitFor();
    await creator.getByRole('radio', { name: 'Option 2 is the right answer' }).check();
    await creator.getByLabel(/^Explanation/).fill('Spiders are arachnids: eight legs.');
    await creator.getByRole('button', { name: 'Send poll' }).click();
    await creator.waitFor({ state: 'detached' });
    const quiz = await eventually('the quiz on the server', async () =>
      (await ana.client.history(group.id, { type: 'poll' })).messages.find((m) => m.poll?.question.startsWith('How many legs')),
    );
    assert.deepEqual(quiz.poll?.quiz, { correct: 1, explanation: 'Spiders are arachnids: eight legs.' }, 'the sender sees the answer');
    const bQuiz = row(b.page, quiz);
    await bQuiz.getByText('Quiz').waitFor();
    await bQuiz.getByRole('button', { name: 'Six' }).tap();
    await bQuiz.getByText('Spiders are arachnids: eight legs.').waitFor();
    assert.match((await bQuiz.locator('.poll-result.correct').textContent()) ?? '', /Eight.*the right answer/);
    assert.match((await bQuiz.locator('.poll-result.wrong').textContent()) ?? '', /Six.*your vote/);
    assert.equal(await bQuiz.getByRole('button', { name: 'Retract vote' }).count(), 0, 'a quiz answer is final');
    // Ana, its author, has not answered: she still sees the choices; closing shows the answer to all.
    const aQuiz = row(a.page, quiz);
    await aQuiz.getByRole('button', { name: 'Eight' }).waitFor();
    assert.equal(await aQuiz.locator('.poll-result.correct').count(), 0);
    await aQuiz.getByRole('button', { name: 'Close poll' }).click();
    await aQuiz.locator('.poll-result.correct').getByText('Eight').waitFor();

    assert.deepEqual(a.errors, []);
    assert.deepEqual(b.errors, []);
    await a.context.close();
    await b.context.close();
  });

  it('forms open in a dialog with every question type, are editable until closed; the business reads results', { timeout: 180_000 }, async () => {
    const shop = await server.signUp(undefined, { kind: 'business' });
    const ana = await server.signUp();
    const chat = await ana.client.openDirect(shop.handle);
    // Automation answers as the business: labelled so.
    await shop.client.automation.updateSettings({ enabled: true });
    await shop.client.automation.createRule({ name: 'Hours', trigger: { type: 'keywords', keywords: ['hours'] }, actions: [{ type: 'reply', text: 'We open at 9.' }] });
    const a = await signedIn(browser, server, ana, DESKTOP);
    await a.page.goto(`${server.url}/chats/${chat.id}`);
    const field = a.page.getByLabel('Message', { exact: true });
    await field.fill('Your opening hours?');
    await field.press('Enter');
    const automated = bubble(a.page, 'We open at 9.');
    await automated.getByText('automated', { exact: true }).waitFor();
    await automated.getByText('business', { exact: true }).waitFor();
    // Then the business sends a form; it arrives live.
    const form = await shop.client.sendForm(chat.id, {
      title: 'How was your visit?',
      submit_label: 'Send feedback',
      questions: [
        { id: 'name', type: 'text', label: 'Your name', required: true },
        { id: 'visit', type: 'single', label: 'What did you come for?', options: ['Coffee', 'Lunch', 'Cake'] },
        { id: 'extras', type: 'multiple', label: 'What else did you try?', options: ['Tea', 'Soup', 'Cookies'] },
        { id: 'stars', type: 'rating', label: 'Rate the service', required: true },
        { id: 'nps', type: 'nps', label: 'Would you recommend us?' },
        { id: 'when', type: 'date', label: 'When did you visit?' },
      ],
    });
    const card = row(a.page, form);
    await card.getByText('How was your visit?').waitFor();
    await card.getByText('business', { exact: true }).waitFor();
    await card.getByRole('button', { name: 'Fill in' }).click();
    const dialog = a.page.getByRole('dialog', { name: 'How was your visit?' });
    await dialog.getByRole('button', { name: 'Send feedback' }).click();
    await dialog.getByText('Answer the 2 questions marked required.').waitFor();
    await dialog.getByLabel(/^Your name/).fill('Ana');
    await dialog.getByRole('group', { name: /What did you come for/ }).getByLabel('Lunch').check();
    await dialog.getByRole('group', { name: /What else did you try/ }).getByLabel('Tea').check();
    await dialog.getByRole('group', { name: /What else did you try/ }).getByLabel('Cookies').check();
    await dialog.getByRole('group', { name: /Rate the service/ }).getByLabel('4 stars').check();
    // The NPS scale by keyboard: focus 0, arrow right to 9.
    await dialog.getByRole('group', { name: /Would you recommend us/ }).getByLabel('0', { exact: true }).focus();
    for (let i = 0; i < 9; i++) await a.page.keyboard.press('ArrowRight');
    await dialog.getByLabel(/^When did you visit/).fill('2026-12-01');
    await dialog.getByRole('button', { name: 'Send feedback' }).click();
    await dialog.waitFor({ state: 'detached' });
    await a.page.getByText('Your answers were sent.').waitFor();
    const results = await shop.client.formResults(form.id);
    assert.equal(results.submissions, 1);
    assert.deepEqual(results.responses[0]?.answers, { name: 'Ana', visit: 1, extras: [0, 2], stars: 4, nps: 9, when: '2026-12-01' });

    // Editable until closed: the dialog opens with her answers; she changes the rating.
    await card.getByRole('button', { name: 'Edit my answers' }).click();
    assert.equal(await dialog.getByLabel(/^Your name/).inputValue(), 'Ana');
    await dialog.getByRole('group', { name: /Rate the service/ }).getByLabel('5 stars').check();
    await dialog.getByRole('button', { name: 'Save my answers' }).click();
    await a.page.getByText('Your answers were updated.').waitFor();
    assert.equal((await shop.client.formResults(form.id)).responses[0]?.answers.stars, 5);

    // The business signs in: its card shows the count and the results, and closes the form.
    const s = await signedIn(browser, server, shop, DESKTOP);
    await s.page.goto(`${server.url}/chats/${chat.id}`);
    const mine = row(s.page, form);
    await mine.getByText('1 submission').waitFor();
    await mine.getByRole('button', { name: 'Results' }).click();
    const report = s.page.getByRole('dialog', { name: 'Results: How was your visit?' });
    await report.getByRole('region', { name: 'Your name' }).getByText('Ana').waitFor();
    assert.match((await report.getByRole('region', { name: 'Rate the service' }).textContent()) ?? '', /average 5\.0/);
    const [download] = await Promise.all([s.page.waitForEvent('download'), report.getByRole('button', { name: 'Download CSV' }).click()]);
    assert.match(download.suggestedFilename(), /^How-was-your-visit.*\.csv$/);
    assert.match(readFileSync(await download.path(), 'utf8'), /Ana/);
    await s.page.keyboard.press('Escape');
    await mine.getByRole('button', { name: 'Close form' }).click();
    await card.getByRole('button', { name: 'See my answers' }).waitFor();
    await card.getByText('Closed').waitFor();
    await card.getByRole('button', { name: 'See my answers' }).click();
    assert.equal(await dialog.getByLabel(/^Your name/).isDisabled(), true, 'closed: read only');
    assert.equal(await dialog.getByRole('button', { name: 'Save my answers' }).count(), 0);

    assert.deepEqual(a.errors, []);
    assert.deepEqual(s.errors, []);
    await a.context.close();
    await s.context.close();
  });
});
