import assert from 'node:assert/strict';
import { test } from 'node:test';
import { extractLinks, linkKey, linkLabel } from './links.ts';
import { MINUTE_MS, type SpreadPolicy, tierOf, velocityFromBuckets } from './spread-velocity.ts';

const policy: SpreadPolicy = {
  tiers: [
    { perMinute: 10, perHour: 60 },
    { perMinute: 20, perHour: 150 },
    { perMinute: 40, perHour: 0 },
    { perMinute: 0, perHour: 1000 },
  ],
  cooldownMs: 300_000,
  limits: { chats: 5, manyTimesChats: 1 },
};

test('the last minute is the current minute plus the part of the previous one still inside 60 s; the hour is the last 60 buckets', () => {
  const now = 1000 * MINUTE_MS + 15_000; // a quarter into minute 1000
  const rows = [
    { minute: 1000, shares: 6, chats: 4, sharers: 3 },
    { minute: 999, shares: 10, chats: 8, sharers: 4 }, // three quarters still inside the last 60 s
    { minute: 950, shares: 5, chats: 5, sharers: 5 },
    { minute: 940, shares: 7, chats: 7, sharers: 7 }, // older than an hour: out
  ];
  const v = velocityFromBuckets(rows, now);
  assert.deepEqual(v, { chatsPerMinute: 10, chatsPerHour: 17, sharersPerMinute: 6, sharersPerHour: 12, sharesPerHour: 21 });
});

test('tiers: the highest whose per-minute or per-hour threshold is reached; 0 turns a threshold off', () => {
  assert.equal(tierOf({ chatsPerMinute: 9, chatsPerHour: 59 }, policy), 0);
  assert.equal(tierOf({ chatsPerMinute: 10, chatsPerHour: 0 }, policy), 1);
  assert.equal(tierOf({ chatsPerMinute: 0, chatsPerHour: 150 }, policy), 2);
  assert.equal(tierOf({ chatsPerMinute: 40, chatsPerHour: 0 }, policy), 3);
  assert.equal(tierOf({ chatsPerMinute: 0, chatsPerHour: 999 }, policy), 2, 'tier 3 has no hourly threshold');
  assert.equal(tierOf({ chatsPerMinute: 0, chatsPerHour: 1000 }, policy), 4);
});

test('links: normalised so trivial variants count together, at most five, never the query in the console', () => {
  const text = 'see https://www.Example.com/news/123/?utm_source=x&id=7#top and http://example.com/news/123?id=7 (or https://other.org/a).';
  assert.deepEqual(extractLinks(text), ['example.com/news/123?id=7', 'other.org/a']);
  assert.equal(linkKey('example.com/news/123?id=7'), linkKey('example.com/news/123?id=7'));
  assert.ok(linkKey('example.com/a') < 0 && linkKey('example.com/a') !== linkKey('example.com/b'));
  assert.equal(linkLabel('example.com/news/123?id=7'), 'example.com/news/123');
  assert.equal(extractLinks(Array.from({ length: 8 }, (_, i) => `https://x.org/${i}`).join(' ')).length, 5);
  assert.deepEqual(extractLinks('no links here, not even www.example.com'), []);
});
