/** How a message reads in the conversation list. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Message } from '@mmd/sdk';
import { messagePreview } from '../src/messenger/format.ts';

const base: Message = {
  id: 'msg_1',
  conversation_id: 'cnv_1',
  seq: 1,
  mentions: [],
  sender_id: 'acc_me',
  sender_handle: 'me',
  text: null,
  reply_to: null,
  forward: null,
  reactions: [],
  media: [],
  status: 'sent',
  created_at: 1,
  edited_at: null,
  deleted: false,
};
const photo = {
  id: 'med_1',
  kind: 'image' as const,
  status: 'failed' as const,
  mime: 'image/jpeg',
  filename: null,
};

test('a refused upload reads as not delivered in the list, not as a photo that went', () => {
  assert.equal(messagePreview({ ...base, status: 'failed', media: [photo] }), 'Not delivered · Photo');
  assert.equal(
    messagePreview({ ...base, status: 'failed', media: [photo], text: 'the beach' }),
    'Not delivered · Photo: the beach',
  );
  assert.equal(
    messagePreview({ ...base, media: [{ ...photo, status: 'ready' }], text: 'the beach' }),
    'Photo: the beach',
  );
});

test('a message moderators took down reads so, not as deleted by its sender', () => {
  assert.equal(messagePreview({ ...base, deleted: true, removed: true }), 'Removed by moderators');
  assert.equal(messagePreview({ ...base, deleted: true }), 'Message deleted');
});

test('a formatted message reads without its markers, and never gives a spoiler away', () => {
  assert.equal(messagePreview({ ...base, text: '*Saturday* at _10_ — the end: ||they marry||' }), 'Saturday at 10 — the end: ▒▒▒');
  assert.equal(messagePreview({ ...base, text: '```\nnpm test\n```' }), 'npm test');
});
