/** The audit log's one-line summary of an entry says what a takedown did, in words. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { auditSummary } from '../src/console/format.ts';

test('a takedown by message shows the hashes it added to the bank, not "hashes: 0"', () => {
  // The detail the server writes for a takedown decided from a review (no hashes pasted).
  const detail = {
    reason: 'ncii',
    review_id: 'rev_1',
    media: ['med_1'],
    messages: [],
    hashes: 0,
    copies_found: 2,
    media_removed: 2,
    messages_removed: 2,
    conversations: 2,
    signals_added: 3,
    duration_ms: 41.2,
  };
  const summary = auditSummary(detail);
  assert.equal(
    summary,
    'reason: ncii · hashes added to the bank: 3 · media removed: 2 · messages removed: 2',
  );
  assert.doesNotMatch(summary, /(^|· )hashes: 0/);
});

test('keeps the server’s order for other actions and names pasted hashes as such', () => {
  assert.equal(auditSummary({ name: 'Partner list', action: 'block' }), 'name: Partner list · action: block');
  assert.equal(auditSummary({ hashes: 5 }), 'hashes pasted: 5');
});
