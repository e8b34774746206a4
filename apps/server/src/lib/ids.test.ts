/**
 * Message, conversation and notification ids begin with their time, so a batch's keys sit
 * together in every index (see ids.ts); the rest stays random and unguessable.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { contactIdFor, newId } from './ids.ts';

test('message and conversation ids sort by the time they were made, and never repeat', () => {
  const start = Date.UTC(2026, 11, 5);
  const ids = Array.from({ length: 2000 }, (_, i) => newId(i % 2 ? 'msg' : 'cnv', start + Math.floor(i / 3) * 7));
  for (const prefix of ['msg', 'cnv']) {
    const own = ids.filter((id) => id.startsWith(`${prefix}_`));
    const times = own.map((id) => id.slice(4, 12));
    assert.deepEqual([...times].sort(), times, `${prefix} ids in time order`);
  }
  assert.equal(new Set(ids).size, ids.length);
  // Across years, too (base 62 in ASCII order, fixed width).
  const later = [Date.UTC(2026, 0, 1), Date.UTC(2031, 0, 1), Date.UTC(2070, 0, 1)].map((t) => newId('msg', t).slice(4, 12));
  assert.deepEqual([...later].sort(), later);
  // 96 random bits after the time: two ids of the same millisecond share nothing else.
  const [a, b] = [newId('msg', start), newId('msg', start)];
  assert.equal(a.slice(0, 12), b.slice(0, 12));
  assert.notEqual(a.slice(12), b.slice(12));
  assert.match(a, /^msg_[0-9A-Za-z]{8}[A-Za-z0-9_-]{16}$/);
});

test('other ids stay wholly random', () => {
  const id = newId('acc');
  assert.match(id, /^acc_[A-Za-z0-9_-]{16}$/);
});

test("a contact's id sorts as its account's does, and two businesses' contacts of one person differ", () => {
  const accounts = Array.from({ length: 2000 }, () => newId('acc'));
  const contacts = accounts.map((a) => ({ a, c: contactIdFor(a) }));
  const byContact = [...contacts].sort((x, y) => (x.c < y.c ? -1 : x.c > y.c ? 1 : 0)).map((x) => x.a);
  assert.deepEqual(byContact, [...accounts].sort());
  const [one, two] = [contactIdFor(accounts[0]!), contactIdFor(accounts[0]!)];
  assert.notEqual(one, two);
  assert.match(one, /^ct_[A-Za-z0-9_-]{16}[A-Za-z0-9_-]{8}$/);
  assert.equal(one.slice(3, 19), accounts[0]!.slice(4));
});
