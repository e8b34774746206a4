/**
 * What a peer's signal may carry: a robust set within a stored set's limits, like a bank file's.
 * A set past them (thousands of anchors every upload would be compared with, an unknown scheme,
 * more anchors than its version allows) is refused with the signal's path, never banked.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AppError } from '../errors.ts';
import { checkSignal } from './peer-banks.ts';

const hex = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const anchors = (n: number) => Array.from({ length: n }, (_, i) => ({ hash: hex, x: i, y: i, scale: 1.03 }));
const signal = (robust: object) => ({ type: 'pdq' as const, value: hex, robust: JSON.stringify(robust) });

function refused(robust: object, why: string) {
  assert.throws(
    () => checkSignal(signal(robust), 3),
    (err: unknown) => err instanceof AppError && err.code === 'validation_failed' && JSON.stringify(err.extra).includes('/signals/3/robust'),
    why,
  );
}

test('a peer robust set within its version limits is banked as sent', () => {
  for (const [v, n] of [
    [2, 64],
    [3, 96],
    [4, 192],
  ] as const) {
    const checked = checkSignal(signal({ v, scheme: 2, global: [hex], centre: [], anchors: anchors(n) }), 0);
    assert.equal((JSON.parse(checked.robust!) as { anchors: unknown[] }).anchors.length, n);
    assert.equal(checked.origin, 'peer');
  }
});

test('a peer robust set past its limits, of an unknown scheme or not a set is refused at its path', () => {
  refused({ v: 4, scheme: 2, global: [hex], centre: [], anchors: anchors(193) }, 'more anchors than any version carries');
  refused({ v: 4, scheme: 2, global: [hex], centre: [], anchors: anchors(5000) }, 'thousands of anchors');
  refused({ v: 3, scheme: 2, global: [hex], centre: [], anchors: anchors(97) }, 'more anchors than v3 carries');
  refused({ v: 2, scheme: 2, global: [hex], centre: [], anchors: anchors(65) }, 'more anchors than v2 carries');
  refused({ v: 2, scheme: 2, global: Array(9).fill(hex), centre: [], anchors: [] }, 'more than 8 whole-picture hashes');
  refused({ v: 2, scheme: 9, global: [hex], centre: [], anchors: [] }, 'an unknown scheme');
  refused({ v: 2, global: ['zz'], centre: [], anchors: [] }, 'a hash that is not hex');
  assert.throws(() => checkSignal({ type: 'pdq', value: hex, robust: '{not json' }, 0), (err: unknown) => err instanceof AppError && err.code === 'validation_failed');
});
