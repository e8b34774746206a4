/**
 * Event payloads are typed by the contracts' EventPayloads map: checking `type` narrows `data`.
 * The type assertions here are checked by `npm run typecheck` (a wrong payload is a compile
 * error, marked @ts-expect-error); the runtime test checks a handler written that way.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SyncEvent } from '@mmd/sdk';

function describe(event: SyncEvent): string {
  switch (event.type) {
    case 'message.created':
      return `${event.data.sender_handle}: ${event.data.text}`;
    case 'reaction.changed':
      return `${event.data.emoji} ${event.data.action}`;
    case 'member.removed':
      return event.data.left ? 'left' : 'removed';
    default:
      return event.type;
  }
}

test('a handler narrows an event’s data by its type', () => {
  const reaction: SyncEvent = {
    cursor: 2,
    type: 'reaction.changed',
    conversation_id: 'cnv_1',
    at: 1,
    data: { message_id: 'msg_1', account_id: 'acc_1', emoji: '👍', action: 'added', reactions: [{ emoji: '👍', count: 1 }] },
  };
  assert.equal(describe(reaction), '👍 added');
  const removed: SyncEvent = { cursor: 3, type: 'member.removed', conversation_id: 'cnv_1', at: 1, data: { account_id: 'acc_1', by: null, left: true } };
  assert.equal(describe(removed), 'left');
  // @ts-expect-error: a receipt's payload is not a reaction's
  const wrong: SyncEvent = { cursor: 4, type: 'receipt.updated', conversation_id: 'cnv_1', at: 1, data: { emoji: '👍' } };
  assert.ok(wrong);
});
