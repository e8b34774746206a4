/**
 * MMD's refusals as Telegram words them: a limit is 429 with `retry_after`, which bot libraries
 * (grammY's auto-retry, python-telegram-bot) wait out instead of giving up on a 400.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../errors.ts';
import { fromAppError } from './errors.ts';

test('a forward limit reaches a bot as 429 Too Many Requests with retry_after, like any rate limit', () => {
  for (const code of ['forward_limit', 'rate_limited'] as const) {
    const e = fromAppError(new AppError(code, 'the same message or picture can go to at most 5 chats a minute; retry in 42 s', { headers: { 'retry-after': '42' } }));
    assert.deepEqual(e.toJSON(), { ok: false, error_code: 429, description: 'Too Many Requests: retry after 42', parameters: { retry_after: 42 } });
  }
});
