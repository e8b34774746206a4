/**
 * Which errors mean "the database cannot serve right now" (answered 503 `unavailable`) and which
 * are faults of the request or the code (answered as they are).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isDatabaseUnavailable } from './index.ts';

const errno = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:5432`), { code });
const sqlstate = (code: string, message: string) => Object.assign(new Error(message), { code });

test('connections refused, broken or timed out, and a server that cannot serve, are unavailability', () => {
  for (const err of [
    errno('ECONNREFUSED'),
    errno('ECONNRESET'),
    errno('ETIMEDOUT'),
    new Error('Connection terminated unexpectedly'),
    new Error('timeout exceeded when trying to connect'),
    new Error('Query read timeout'),
    sqlstate('57P01', 'terminating connection due to administrator command'),
    sqlstate('57P03', 'the database system is starting up'),
    sqlstate('53300', 'sorry, too many clients already'),
    sqlstate('57014', 'canceling statement due to statement timeout'),
    sqlstate('08006', 'connection failure'),
    Object.assign(new AggregateError([errno('ECONNREFUSED'), errno('ECONNREFUSED')]), { message: '' }),
  ]) {
    assert.equal(isDatabaseUnavailable(err), true, `${(err as { code?: string }).code ?? ''} ${err.message}`);
  }
});

test('errors of the request or the code are not', () => {
  for (const err of [
    sqlstate('23505', 'duplicate key value violates unique constraint'),
    sqlstate('42P01', 'relation "nope" does not exist'),
    sqlstate('22P02', 'invalid input syntax for type bigint'),
    new TypeError('Cannot read properties of undefined'),
    null,
    'a string',
  ]) {
    assert.equal(isDatabaseUnavailable(err), false, String(err));
  }
});
