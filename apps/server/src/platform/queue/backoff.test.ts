import assert from 'node:assert/strict';
import { test } from 'node:test';
import { retryDelay } from './backoff.ts';

test('backoff doubles per attempt, with half of each delay random, up to the cap', () => {
  const opts = { baseMs: 100, maxMs: 1000 };
  assert.equal(
    retryDelay(1, opts, () => 0),
    50,
  );
  assert.equal(
    retryDelay(1, opts, () => 1),
    100,
  );
  assert.equal(
    retryDelay(3, opts, () => 0),
    200,
  );
  assert.equal(
    retryDelay(3, opts, () => 1),
    400,
  );
  assert.equal(
    retryDelay(20, opts, () => 1),
    1000,
  );
  assert.equal(
    retryDelay(20, opts, () => 0),
    500,
  );
});
