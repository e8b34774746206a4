import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { MessageContentType, MmdClient, SyncEvent } from '@mmd/sdk';
import { parse } from 'csv-parse/sync';
import sharp from 'sharp';
import { type TestServer, type User, eventually, onEachDatabase, rejectsWith, startTestServer } from './harness.ts';

/** Events of one type an account received after `cursor`. */
async function eventsOf<T extends SyncEvent['type']>(client: MmdClient, type: T, cursor = 0): Promise<Extract<SyncEvent, { type: T }>[]> {
  const all: SyncEvent[] = [];
  for (let c = cursor; ; ) {
    const page = await client.updates({ cursor: c, limit: 200 });
    all.push(...page.events);
    c = page.cursor;
    if (!page.has_more) break;
  }
  return all.filter((e): e is Extract<SyncEvent, { type: T }> => e.type === type);
}

onEachDatabase('interactive messages', (dialect) => {
  let server: TestServer;
  // The suite's clock runs with real time plus whatever a test adds (closes_at).
  let offset = 0;
  before(async () => {
    server = await startTestServer({ dialect, clock: () => Date.now() + offset, config: { interactiveCallbackWaitMs: 60_000, pollCoalesceMs: 400 } });
  });
  after(() => server.close());

  async function botAndPerson() {
    const bot = await server.signUp(undefined, { kind: 'bot' });
    const person = await server.signUp();
    const chat = await person.client.openDirect(bot.handle);
    return { bot, person, chat };
  }

  async function group(owner: User, ...members: User[]) {
    return owner.client.createConversation({ kind: 'group', title: 'g', members: members.map((m) => m.handle) });
  }

  test('bots and businesses send buttons, lists, cards and forms; a person sending them is refused, a poll is not', async () => {
    const { bot, person, chat } = await botAndPerson();
    const business = await server.signUp(undefined, { kind: 'business' });
    const withBusiness = await person.client.openDirect(business.handle);
    const buttons = [[{ type: 'callback' as const, text: 'Yes', data: 'yes' }]];
    await rejectsWith(person.client.sendButtons(chat.id, 'pick', buttons), 'interactive_not_allowed', 403);
    await rejectsWith(person.client.send(chat.id, { text: 'x', quick_replies: { rows: [[{ text: 'a' }]] } }), 'interactive_not_allowed', 403);
    await rejectsWith(person.client.sendList(chat.id, { button: 'Open', sections: [{ rows: [{ id: 'a', title: 'A' }] }] }), 'interactive_not_allowed', 403);
    await rejectsWith(person.client.sendCards(chat.id, [{ title: 'c' }]), 'interactive_not_allowed', 403);
    await rejectsWith(person.client.sendForm(chat.id, { title: 'f', questions: [{ id: 'q', type: 'text', label: 'Q' }] }), 'interactive_not_allowed', 403);
    assert.ok((await person.client.sendPoll(chat.id, { question: 'Lunch?', options: ['Pizza', 'Soup'] })).poll);
    assert.ok((await bot.client.sendButtons(chat.id, 'pick', buttons)).buttons);
    assert.ok((await business.client.sendButtons(withBusiness.id, 'pick', buttons)).buttons);
  });

  test('limits are refused with interactive_limit naming the limit; malformed content with validation_failed', async () => {
    const { bot, chat } = await botAndPerson();
    const cb = (i: number) => ({ type: 'callback' as const, text: `b${i}`, data: `d${i}` });
    const refused = async (body: Parameters<MmdClient['send']>[1], code: string, words: string) => {
      const err = await bot.client.send(chat.id, body).then(
        () => assert.fail('accepted'),
        (e: { code: string; status: number; message: string; problem: { detail?: string } | null }) => e,
      );
      assert.equal(err.code, code, JSON.stringify(err.problem));
      assert.match(err.problem?.detail ?? '', new RegExp(words));
    };
    await refused({ text: 'x', buttons: [Array.from({ length: 9 }, (_, i) => cb(i))] }, 'interactive_limit', 'buttons per row: at most 8');
    await refused({ text: 'x', buttons: Array.from({ length: 13 }, (_, r) => Array.from({ length: 8 }, (_, i) => cb(r * 8 + i))) }, 'interactive_limit', 'at most 100 in all');
    await refused({ text: 'x', buttons: [[{ type: 'callback', text: 'b', data: 'é'.repeat(33) }]] }, 'interactive_limit', 'callback data: at most 64 bytes');
    await refused({ text: 'x', buttons: [[{ type: 'reply', text: 'x'.repeat(65) }]] }, 'interactive_limit', 'button text: at most 64');
    await refused({ poll: { question: 'q', options: Array.from({ length: 13 }, (_, i) => `o${i}`) } }, 'interactive_limit', 'poll options: 2–12');
    await refused({ poll: { question: 'q'.repeat(301), options: ['a', 'b'] } }, 'interactive_limit', 'poll question: at most 300');
    await refused({ list: { button: 'Open', sections: [{ rows: Array.from({ length: 11 }, (_, i) => ({ id: `r${i}`, title: 'r' })) }] } }, 'interactive_limit', 'list rows: at most 10');
    await refused({ list: { button: 'Open', sections: [{ rows: [{ id: 'a', title: 'x'.repeat(25) }] }] } }, 'interactive_limit', 'list row title: at most 24');
    await refused({ cards: Array.from({ length: 11 }, () => ({ title: 't' })) }, 'interactive_limit', 'cards: at most 10');
    await refused({ cards: [{ title: 't', buttons: Array.from({ length: 5 }, (_, i) => cb(i)) }] }, 'interactive_limit', 'card buttons: at most 4');
    await refused({ form: { title: 'f', questions: Array.from({ length: 11 }, (_, i) => ({ id: `q${i}`, type: 'text' as const, label: 'l' })) } }, 'interactive_limit', 'form questions: at most 10');
    await refused({ poll: { question: 'q', options: ['a', 'b'] }, form: { title: 'f', questions: [{ id: 'q', type: 'text', label: 'l' }] } }, 'interactive_limit', 'one of list, cards, poll, form');
    await refused({ text: 'x', buttons: [[{ type: 'url', text: 'site', url: 'http://example.com' }]] }, 'validation_failed', 'https');
    await refused({ text: 'x', buttons: [[{ type: 'callback', text: 'no data' }]] }, 'validation_failed', 'needs data');
    await refused({ text: 'x', buttons: [[{ ...cb(1), id: 'same' }, { ...cb(2), id: 'same' }]] }, 'validation_failed', 'appears twice');
    await refused({ poll: { question: 'q', options: ['a', 'b'], quiz: { correct: 5 } } }, 'validation_failed', 'index of one of the options');
    await refused({ buttons: [[cb(1)]] }, 'validation_failed', 'text');
    // Exactly at the limits is fine.
    const full = await bot.client.send(chat.id, { text: 'x', buttons: [Array.from({ length: 8 }, (_, i) => cb(i)), [{ type: 'callback', text: 'b', data: 'é'.repeat(32) }]] });
    assert.equal(full.buttons?.[0]?.length, 8);
  });

  test('buttons: ids assigned, url domains shown, callback data shown to the sender only', async () => {
    const { bot, person, chat } = await botAndPerson();
    const sent = await bot.client.sendButtons(chat.id, 'Choose', [
      [
        { type: 'callback', text: 'Yes', data: 'answer:yes' },
        { type: 'url', text: 'Docs', url: 'https://docs.example.org/a?b=c' },
      ],
      [
        { type: 'reply', text: 'Tell me more', id: 'more' },
        { type: 'copy', text: 'Copy code', copy_text: 'X-42' },
      ],
    ]);
    assert.deepEqual(sent.buttons, [
      [
        { id: 'r0c0', type: 'callback', text: 'Yes', data: 'answer:yes' },
        { id: 'r0c1', type: 'url', text: 'Docs', url: 'https://docs.example.org/a?b=c', domain: 'docs.example.org' },
      ],
      [
        { id: 'more', type: 'reply', text: 'Tell me more' },
        { id: 'r1c1', type: 'copy', text: 'Copy code', copy_text: 'X-42' },
      ],
    ]);
    const seen = await person.client.message(sent.id);
    assert.deepEqual(seen.buttons?.[0]?.[0], { id: 'r0c0', type: 'callback', text: 'Yes' });
    const [created] = (await eventsOf(person.client, 'message.created')).filter((e) => e.data.id === sent.id);
    assert.equal(created?.data.buttons?.[0]?.[0]?.data, undefined, 'events go to everyone: no callback data');
    // Copy and url buttons are the client's business; tapping them answers nothing.
    assert.deepEqual(await person.client.tapButton(sent.id, 'r1c1'), { answer: null });
    // The sender replaces its keyboard (a bot after a tap), or removes it; nobody else may.
    await rejectsWith(person.client.editButtons(sent.id, null), 'forbidden', 403);
    const replaced = await bot.client.editButtons(sent.id, [[{ type: 'callback', text: 'Done ✓', data: 'done' }]]);
    assert.deepEqual(replaced.buttons, [[{ id: 'r0c0', type: 'callback', text: 'Done ✓', data: 'done' }]]);
    assert.equal((await person.client.message(sent.id)).buttons?.[0]?.[0]?.text, 'Done ✓');
    await rejectsWith(person.client.tapButton(sent.id, 'more'), 'not_found', 404);
    const removed = await bot.client.editButtons(sent.id, null);
    assert.equal(removed.buttons, undefined);
    const edits = (await eventsOf(person.client, 'message.edited')).filter((e) => e.data.id === sent.id);
    assert.equal(edits.length, 2);
    assert.equal(edits[0]?.data.buttons?.[0]?.[0]?.data, undefined);
    const plain = await bot.client.send(chat.id, { text: 'later' });
    assert.equal((await bot.client.editButtons(plain.id, [[{ type: 'reply', text: 'ok' }]])).buttons?.[0]?.[0]?.text, 'ok');
  });

  test('a callback tap reaches the bot, whose answer comes back to the person within the wait; answered once only, by that bot only', async () => {
    const { bot, person, chat } = await botAndPerson();
    const other = await server.signUp(undefined, { kind: 'bot' });
    const sent = await bot.client.sendButtons(chat.id, 'Confirm?', [[{ type: 'callback', text: 'Yes', data: 'confirm:1', id: 'yes' }]]);
    const cursor = (await bot.client.updates({ cursor: 0 })).cursor;
    const tap = person.client.tapButton(sent.id, 'yes');
    const query = await eventually('callback.query', async () => (await eventsOf(bot.client, 'callback.query', cursor))[0]);
    assert.equal(query.data.data, 'confirm:1');
    assert.equal(query.data.button_id, 'yes');
    assert.deepEqual(query.data.from, { id: person.accountId, handle: person.handle });
    await rejectsWith(other.client.answerCallback(query.data.id, { text: 'not mine' }), 'not_found', 404);
    await rejectsWith(person.client.answerCallback(query.data.id, { text: 'me?' }), 'not_found', 404);
    await rejectsWith(bot.client.answerCallback(query.data.id, { url: 'http://insecure.example' }), 'validation_failed', 400);
    await bot.client.answerCallback(query.data.id, { text: 'Confirmed', alert: true });
    assert.deepEqual((await tap).answer, { text: 'Confirmed', alert: true });
    await rejectsWith(bot.client.answerCallback(query.data.id, { text: 'again' }), 'callback_answered', 409);
    // The person's other devices hear the answer too; nobody else does.
    const answered = await eventsOf(person.client, 'callback.answered');
    assert.equal(answered.at(-1)?.data.text, 'Confirmed');
    assert.equal((await eventsOf(other.client, 'callback.query')).length, 0);
  });

  test('a callback nobody answers resolves with no answer after the wait, and can no longer be answered', async () => {
    const { bot, person, chat } = await botAndPerson();
    const sent = await bot.client.sendButtons(chat.id, 'Hello', [[{ type: 'callback', text: 'Ping', data: 'ping' }]]);
    const tap = person.client.tapButton(sent.id, 'r0c0');
    const query = await eventually('callback.query', async () => (await eventsOf(bot.client, 'callback.query'))[0]);
    // The minute's wait passes on the server's clock.
    offset += 61_000;
    assert.deepEqual(await tap, { answer: null });
    await rejectsWith(bot.client.answerCallback(query.data.id, { text: 'late' }), 'callback_expired', 410);
  });

  test('reply buttons and list picks send the label as the person’s message, replying; the bot hears list.selected', async () => {
    const { bot, person, chat } = await botAndPerson();
    const withButtons = await bot.client.sendButtons(chat.id, 'More?', [[{ type: 'reply', text: 'Yes please', id: 'y' }]]);
    const replied = await person.client.tapButton(withButtons.id, 'y');
    assert.equal(replied.message?.text, 'Yes please');
    assert.equal(replied.message?.reply_to, withButtons.id);
    assert.equal(replied.message?.sender_id, person.accountId);
    const list = await bot.client.sendList(chat.id, { button: 'Menu', sections: [{ title: 'Drinks', rows: [{ id: 'tea', title: 'Tea', description: 'Green or black' }, { id: 'coffee', title: 'Coffee' }] }] }, { text: 'What would you like?' });
    assert.deepEqual(list.list, { button: 'Menu', sections: [{ title: 'Drinks', rows: [{ id: 'tea', title: 'Tea', description: 'Green or black' }, { id: 'coffee', title: 'Coffee', description: null }] }] });
    const picked = await person.client.pickListRow(list.id, 'coffee');
    assert.equal(picked.message?.text, 'Coffee');
    assert.equal(picked.message?.reply_to, list.id);
    const selected = await eventually('list.selected', async () => (await eventsOf(bot.client, 'list.selected'))[0]);
    assert.deepEqual(selected.data, { message_id: list.id, conversation_id: chat.id, from: { id: person.accountId, handle: person.handle }, row_id: 'coffee', title: 'Coffee' });
    await rejectsWith(person.client.pickListRow(list.id, 'juice'), 'not_found', 404);
    await rejectsWith(person.client.tapButton(withButtons.id, 'nope'), 'not_found', 404);
    await rejectsWith(person.client.vote(list.id, [0]), 'not_found', 404);
  });

  test('quick replies are stored and shown; a later message removes them', async () => {
    const { bot, person, chat } = await botAndPerson();
    const shown = await bot.client.send(chat.id, { text: 'Size?', quick_replies: { rows: [[{ text: 'S' }, { text: 'M' }, { text: 'L' }]], one_time: true, placeholder: 'Pick a size' } });
    assert.deepEqual((await person.client.message(shown.id)).quick_replies, { rows: [[{ text: 'S' }, { text: 'M' }, { text: 'L' }]], one_time: true, persistent: false, placeholder: 'Pick a size', remove: false });
    const removed = await bot.client.send(chat.id, { text: 'Thanks', quick_replies: { remove: true } });
    assert.equal(removed.quick_replies?.remove, true);
    const { messages } = await person.client.history(chat.id, { type: 'quick_replies' });
    assert.deepEqual(messages.map((m) => m.id), [shown.id, removed.id]);
  });

  test('polls: vote, change, retract; single answer enforced; public voters; counts travel as small coalesced poll.updated events', async () => {
    const owner = await server.signUp();
    const voters = await Promise.all(Array.from({ length: 12 }, () => server.signUp()));
    const g = await group(owner, ...voters);
    const sent = await owner.client.sendPoll(g.id, { question: 'Where do we meet?', options: ['Café', 'Park', 'Office'], anonymous: false });
    assert.deepEqual(sent.poll, { question: 'Where do we meet?', options: [{ text: 'Café', votes: 0 }, { text: 'Park', votes: 0 }, { text: 'Office', votes: 0 }], anonymous: false, multiple: false, quiz: null, closes_at: null, closed: false, voters: 0, my_votes: [] });
    const start = (await owner.client.updates({ cursor: 0 })).cursor;
    const [first, second] = voters;
    let mine = await first!.client.vote(sent.id, [1]);
    assert.deepEqual(mine.poll?.my_votes, [1]);
    mine = await first!.client.vote(sent.id, [2]);
    assert.deepEqual(mine.poll?.options.map((o) => o.votes), [0, 0, 1]);
    await rejectsWith(first!.client.vote(sent.id, [0, 1]), 'validation_failed', 400);
    await rejectsWith(first!.client.vote(sent.id, [3]), 'validation_failed', 400);
    mine = await first!.client.vote(sent.id, []);
    assert.deepEqual([mine.poll?.my_votes, mine.poll?.voters], [[], 0]);
    // A burst: every voter at once.
    await Promise.all(voters.map((v, i) => v.client.vote(sent.id, [i % 3])));
    const final = await eventually('poll.updated with every vote', async () => {
      const events = await eventsOf(second!.client, 'poll.updated', start);
      return events.at(-1)?.data.voters === voters.length ? events : null;
    });
    assert.deepEqual(final.at(-1)?.data, { message_id: sent.id, conversation_id: g.id, counts: [4, 4, 4], voters: 12, closed: false });
    // Fifteen votes, far fewer events: they are coalesced, and none carries the message.
    assert.ok(final.length < 15, `${final.length} poll.updated events for 15 votes`);
    assert.ok(final.every((e) => JSON.stringify(e.data).length < 200));
    // The sender of a public poll hears each answer; members see who voted.
    const answers = await eventsOf(owner.client, 'poll.answer', start);
    assert.ok(answers.some((a) => a.data.from.id === first!.accountId && a.data.options.length === 0), 'a retraction is an answer too');
    const page = await second!.client.pollVoters(sent.id, 0, { limit: 2 });
    assert.equal(page.voters.length, 2);
    const rest = await second!.client.pollVoters(sent.id, 0, { after: page.next!, limit: 10 });
    assert.equal(page.voters.length + rest.voters.length, 4);
    assert.equal(rest.next, null);
    assert.equal(new Set([...page.voters, ...rest.voters].map((v) => v.account_id)).size, 4);
    // History shows each viewer their own vote.
    const { messages } = await voters[4]!.client.history(g.id, { type: 'poll' });
    assert.deepEqual(messages.map((m) => m.poll?.my_votes), [[1]]);
  });

  test('anonymous polls hide their voters; multiple-answer polls take several options', async () => {
    const owner = await server.signUp();
    const member = await server.signUp();
    const g = await group(owner, member);
    const anon = await owner.client.sendPoll(g.id, { question: 'Which days?', options: ['Mon', 'Tue', 'Wed'], multiple: true });
    const reply = await member.client.vote(anon.id, [0, 2]);
    assert.deepEqual(reply.poll?.my_votes, [0, 2]);
    assert.deepEqual(reply.poll?.options.map((o) => o.votes), [1, 0, 1]);
    assert.equal(reply.poll?.voters, 1);
    await rejectsWith(owner.client.pollVoters(anon.id, 0), 'forbidden', 403);
    assert.equal((await eventsOf(owner.client, 'poll.answer')).filter((e) => e.data.message_id === anon.id).length, 0, 'anonymous: the sender is not told who voted');
  });

  test('quizzes reveal the correct answer once you answered or the quiz closed; an answer is final', async () => {
    const owner = await server.signUp();
    const a = await server.signUp();
    const b = await server.signUp();
    const g = await group(owner, a, b);
    const quiz = await owner.client.sendPoll(g.id, { question: '2 + 2?', options: ['3', '4', '5'], quiz: { correct: 1, explanation: 'Basic arithmetic' } });
    assert.deepEqual(quiz.poll?.quiz, { correct: 1, explanation: 'Basic arithmetic' }, 'its author knows');
    assert.deepEqual((await a.client.message(quiz.id)).poll?.quiz, { correct: null, explanation: null });
    const voted = await a.client.vote(quiz.id, [2]);
    assert.deepEqual(voted.poll?.quiz, { correct: 1, explanation: 'Basic arithmetic' });
    await rejectsWith(a.client.vote(quiz.id, [1]), 'conflict', 409);
    await rejectsWith(a.client.vote(quiz.id, []), 'conflict', 409);
    await rejectsWith(a.client.closePoll(quiz.id), 'forbidden', 403);
    const closed = await owner.client.closePoll(quiz.id);
    assert.equal(closed.poll?.closed, true);
    assert.deepEqual((await b.client.message(quiz.id)).poll?.quiz, { correct: 1, explanation: 'Basic arithmetic' });
    await rejectsWith(b.client.vote(quiz.id, [1]), 'poll_closed', 409);
    const updates = await eventsOf(b.client, 'poll.updated');
    assert.equal(updates.filter((e) => e.data.message_id === quiz.id).at(-1)?.data.closed, true);
  });

  test('a poll closes at its closes_at: votes after it are refused, and everyone hears it closed', async () => {
    const owner = await server.signUp();
    const member = await server.signUp();
    const g = await group(owner, member);
    const poll = await owner.client.sendPoll(g.id, { question: 'Quick one', options: ['a', 'b'], closes_at: Date.now() + offset + 60_000 });
    await member.client.vote(poll.id, [0]);
    offset += 61_000;
    await rejectsWith(member.client.vote(poll.id, [1]), 'poll_closed', 409);
    assert.equal((await member.client.message(poll.id)).poll?.closed, true);
    const closedEvent = await eventually('poll.updated closed', async () => (await eventsOf(member.client, 'poll.updated')).find((e) => e.data.message_id === poll.id && e.data.closed), 10_000);
    assert.deepEqual(closedEvent.data.counts, [1, 0]);
  });

  test('forms: one submission per person, editable until closed; results for the sender as JSON and CSV', async () => {
    const { bot, person, chat } = await botAndPerson();
    const form = await bot.client.sendForm(chat.id, {
      title: 'Feedback',
      submit_label: 'Send',
      questions: [
        { id: 'name', type: 'text', label: 'Your name', required: true },
        { id: 'plan', type: 'single', label: 'Plan', options: ['Free', 'Pro'] },
        { id: 'uses', type: 'multiple', label: 'You use', options: ['Web', 'CLI', 'SDK'] },
        { id: 'stars', type: 'rating', label: 'Rating' },
        { id: 'nps', type: 'nps', label: 'Recommend?' },
        { id: 'when', type: 'date', label: 'Since' },
      ],
    });
    assert.equal(form.form?.submissions, 0);
    await rejectsWith(person.client.submitForm(form.id, { plan: 1 }), 'validation_failed', 400);
    await rejectsWith(person.client.submitForm(form.id, { name: 'Ann', stars: 6 }), 'validation_failed', 400);
    await rejectsWith(person.client.submitForm(form.id, { name: 'Ann', when: '2026-02-30' }), 'validation_failed', 400);
    await rejectsWith(person.client.submitForm(form.id, { name: 'Ann', bogus: 1 }), 'validation_failed', 400);
    await rejectsWith(person.client.submitForm(form.id, { name: 'x'.repeat(1001) }), 'interactive_limit', 400);
    const first = await person.client.submitForm(form.id, { name: '=HYPERLINK("evil")', plan: 1, uses: [2, 0], stars: 4, nps: 10, when: '2025-01-31' });
    assert.deepEqual(first.form?.my_answers, { name: '=HYPERLINK("evil")', plan: 1, uses: [0, 2], stars: 4, nps: 10, when: '2025-01-31' });
    const edited = await person.client.submitForm(form.id, { name: 'Ann', plan: 0, stars: 5, nps: 6 });
    assert.equal(edited.form?.submissions, 1);
    const submitted = await eventually('form.submitted', async () => {
      const events = await eventsOf(bot.client, 'form.submitted');
      return events.length === 2 ? events : null;
    });
    assert.deepEqual(submitted.map((e) => e.data.edited), [false, true]);
    await rejectsWith(person.client.formResults(form.id), 'forbidden', 403);
    const results = await bot.client.formResults(form.id);
    assert.equal(results.submissions, 1);
    const byId = new Map(results.questions.map((q) => [q.id, q]));
    assert.deepEqual(byId.get('plan')?.counts, [1, 0]);
    assert.deepEqual(byId.get('stars')?.counts, [0, 0, 0, 0, 1]);
    assert.equal(byId.get('nps')?.nps, -100);
    assert.equal(results.responses[0]?.handle, person.handle);
    // A second person; then the CSV: one row each, option texts, formulas defused.
    const second = await server.signUp();
    const g = await group(second, bot);
    const inGroup = await bot.client.sendForm(g.id, { title: 'Quick', questions: [{ id: 'q', type: 'multiple', label: 'Pick, any', options: ['One', 'Two'] }] });
    await second.client.submitForm(inGroup.id, { q: [0, 1] });
    const csvOne = parse(await bot.client.formResultsCsv(form.id), { bom: true }) as string[][];
    assert.deepEqual(csvOne[0], ['handle', 'submitted_at', 'edited_at', 'Your name', 'Plan', 'You use', 'Rating', 'Recommend?', 'Since']);
    assert.deepEqual([csvOne[1]?.[0], ...(csvOne[1]?.slice(3) ?? [])], [person.handle, 'Ann', 'Free', '', '5', '6', '']);
    const csvTwo = parse(await bot.client.formResultsCsv(inGroup.id), { bom: true }) as string[][];
    assert.equal(csvTwo[1]?.[3], 'One; Two');
    await person.client.submitForm(form.id, { name: '=1+1' });
    const defused = parse(await bot.client.formResultsCsv(form.id), { bom: true }) as string[][];
    assert.equal(defused[1]?.[3], "'=1+1");
    await bot.client.closePoll(form.id);
    await rejectsWith(person.client.submitForm(form.id, { name: 'late' }), 'form_closed', 409);
    assert.equal((await person.client.message(form.id)).form?.closed, true);
  });

  test('cards carry the sender’s own ready image as their header; anything else is refused', async () => {
    const { bot, person, chat } = await botAndPerson();
    const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#3366cc' } }).png().toBuffer();
    const upload = await bot.client.upload(png, { filename: 'card.png', contentType: 'image/png' });
    await bot.client.waitForMedia(upload.id, { timeoutMs: 30_000 });
    const mine = await person.client.upload(png, { filename: 'p.png', contentType: 'image/png' });
    await person.client.waitForMedia(mine.id, { timeoutMs: 30_000 });
    const carousel = await bot.client.sendCards(chat.id, [
      { media_id: upload.id, title: 'Blue shirt', description: 'Cotton', buttons: [{ type: 'callback', text: 'Buy', data: 'buy:1' }] },
      { title: 'Red shirt', buttons: [{ type: 'url', text: 'View', url: 'https://shop.example.com/red' }] },
    ]);
    const seen = await person.client.message(carousel.id);
    assert.equal(seen.cards?.length, 2);
    assert.equal(seen.cards?.[0]?.media?.id, upload.id);
    assert.equal(seen.cards?.[0]?.media?.status, 'ready');
    assert.equal(seen.cards?.[1]?.media, null);
    assert.deepEqual(seen.media, [], 'the header is shown in its card, not as an attachment');
    assert.deepEqual(seen.cards?.[0]?.buttons, [{ id: 'k0b0', type: 'callback', text: 'Buy' }]);
    // The recipient may fetch the header, as any attachment they can see.
    assert.equal((await person.client.media(upload.id)).id, upload.id);
    await rejectsWith(bot.client.sendCards(chat.id, [{ media_id: mine.id, title: 'stolen' }]), 'not_found', 404);
    const { messages } = await person.client.history(chat.id, { type: 'cards' });
    assert.deepEqual(messages.map((m) => m.id), [carousel.id]);
  });

  test('nobody outside the message interacts with it: strangers, removed members and late joiners get 404; deleted ones 410', async () => {
    const owner = await server.signUp();
    const member = await server.signUp();
    const stranger = await server.signUp();
    const g = await group(owner, member);
    await owner.client.updateConversation(g.id, { history_visible: false });
    const poll = await owner.client.sendPoll(g.id, { question: 'Q', options: ['a', 'b'], anonymous: false });
    await rejectsWith(stranger.client.vote(poll.id, [0]), 'not_found', 404);
    await rejectsWith(stranger.client.vote('msg_doesnotexist', [0]), 'not_found', 404);
    await rejectsWith(stranger.client.pollVoters(poll.id, 0), 'not_found', 404);
    await rejectsWith(stranger.client.closePoll(poll.id), 'not_found', 404);
    await owner.client.removeMember(g.id, member.accountId);
    await rejectsWith(member.client.vote(poll.id, [0]), 'not_found', 404);
    const late = await server.signUp();
    await owner.client.addMember(g.id, late.handle);
    await rejectsWith(late.client.vote(poll.id, [0]), 'not_found', 404);
    await owner.client.deleteMessage(poll.id);
    await rejectsWith(owner.client.vote(poll.id, [0]), 'message_deleted', 410);
    await rejectsWith(owner.client.closePoll(poll.id), 'message_deleted', 410);
    // Deleted for everyone: the question and options go with the text, in history and in the database.
    assert.equal((await owner.client.message(poll.id)).poll, undefined);
    assert.equal((await server.db.db.selectFrom('interactive_contents').select('message_id').where('message_id', '=', poll.id).execute()).length, 0);
    // Interactions need messages:write; reading voters needs messages:read.
    const { bot, person, chat } = await botAndPerson();
    const key = await bot.client.createApiKey({ name: 'reader', scopes: ['messages:read'] });
    const reader = bot.client.as(key.key);
    const other = await person.client.sendPoll(chat.id, { question: 'Q2', options: ['a', 'b'] });
    await rejectsWith(reader.vote(other.id, [0]), 'insufficient_scope', 403);
    assert.equal((await reader.message(other.id)).poll?.question, 'Q2');
  });

  test('history filters by type; other messages are untouched by the new fields', async () => {
    const { bot, person, chat } = await botAndPerson();
    const plain = await person.client.send(chat.id, { text: 'hi' });
    assert.equal('poll' in plain, false);
    const poll = await person.client.sendPoll(chat.id, { question: 'Q', options: ['a', 'b'] });
    const form = await bot.client.sendForm(chat.id, { title: 'F', questions: [{ id: 'q', type: 'rating', label: 'R' }] });
    const buttons = await bot.client.sendButtons(chat.id, 'B', [[{ type: 'reply', text: 'ok' }]]);
    const ids = async (type?: MessageContentType) => (await person.client.history(chat.id, { type })).messages.map((m) => m.id);
    assert.deepEqual(await ids('poll'), [poll.id]);
    assert.deepEqual(await ids('form'), [form.id]);
    assert.deepEqual(await ids('buttons'), [buttons.id]);
    assert.deepEqual(await ids('interactive'), [poll.id, form.id, buttons.id]);
    assert.deepEqual(await ids(), [plain.id, poll.id, form.id, buttons.id]);
  });
});

onEachDatabase('interactive messages held for their media', (dialect) => {
  let server: TestServer;
  before(async () => {
    // No worker: uploads are never processed, so a message carrying one stays held (pending).
    server = await startTestServer({ dialect, worker: false });
  });
  after(() => server.close());

  test('a held message cannot be acted on: 404 for the others, 409 for its sender', async () => {
    const bot = await server.signUp(undefined, { kind: 'bot' });
    const person = await server.signUp();
    const chat = await person.client.openDirect(bot.handle);
    const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#000' } }).png().toBuffer();
    const upload = await bot.client.upload(png, { filename: 'a.png', contentType: 'image/png' });
    const held = await bot.client.send(chat.id, { text: 'Pick', media: [upload.id], buttons: [[{ type: 'reply', text: 'Yes', id: 'yes' }]] });
    assert.equal(held.status, 'pending');
    assert.equal(held.buttons?.[0]?.[0]?.id, 'yes');
    await rejectsWith(person.client.tapButton(held.id, 'yes'), 'not_found', 404);
    await rejectsWith(bot.client.tapButton(held.id, 'yes'), 'conflict', 409);
    await rejectsWith(bot.client.editButtons(held.id, null), 'conflict', 409);
    // A poll cannot be held (it carries no media), but cards must be ready: an unprocessed header is refused.
    await rejectsWith(bot.client.sendCards(chat.id, [{ media_id: upload.id, title: 'not yet' }]), 'validation_failed', 400);
  });
});
