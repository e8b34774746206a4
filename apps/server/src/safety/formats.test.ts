import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Bank } from '@mmd/contracts';
import type { AppError } from '../errors.ts';
import { formatBankFile, parseBankFile } from './formats.ts';
import type { SignalRow } from './store.ts';

const pdq = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
const bank: Bank = {
  id: 'bnk_1',
  name: 'Partner',
  category: 'terrorism',
  source: null,
  action: 'block',
  pdq_threshold: 31,
  system: null,
  trusted: false,
  signal_count: 2,
  match_count: 0,
  last_match_at: null,
  created_at: 0,
};
const row = (id: number, type: SignalRow['type'], value: string, label: string | null = null): SignalRow => ({
  id, bank_id: bank.id, type, value, value_key: value, label, quality: null, robust: null, origin: 'paste', case_ref: null, created_by: null, created_at: 1_700_000_000_000,
});

test('reads an HMA signal file: python-threatexchange type names, unknown kinds skipped', () => {
  const file = `pdq ${pdq}\r\nvideo_md5 ${'A'.repeat(32)}\nphoto_md5 ${'b'.repeat(32)}\nraw_text hello world\n# a comment\n\nvpdq ["${pdq},100,0.000"]\n`;
  const { entries, skipped } = parseBankFile('hma', file);
  assert.deepEqual(entries.map((e) => [e.type, e.value]), [['pdq', pdq], ['md5', 'a'.repeat(32)], ['md5', 'b'.repeat(32)], ['vpdq', `["${pdq},100,0.000"]`]]);
  assert.equal(skipped, 1);
});

test('reads ThreatExchange threat_updates records, their tags as labels, tombstones skipped', () => {
  const doc = {
    data: [
      { id: '1', indicator: pdq, type: 'HASH_PDQ', last_updated: 1, should_delete: false, descriptors: { data: [{ tags: ['terrorism', 'gifct_list'] }] } },
      { id: '2', indicator: pdq, type: 'HASH_PDQ', should_delete: true },
      { id: '3', indicator: 'https://example.com', type: 'URI', should_delete: false },
      { id: '4', raw_indicator: 'C'.repeat(64), type: 'HASH_VIDEO_SHA256' },
    ],
  };
  const { entries, skipped } = parseBankFile('te', doc);
  assert.deepEqual(entries.map((e) => [e.type, e.value, e.label]), [['pdq', pdq, 'gifct_list'], ['sha256', 'c'.repeat(64), null]]);
  assert.equal(skipped, 2);
});

test('lists every bad entry with where it is, up to twenty', () => {
  const lines = Array.from({ length: 30 }, (_, i) => `pdq ${i}`).join('\n');
  assert.throws(() => parseBankFile('hma', lines), (err: AppError) => err.code === 'validation_failed' && err.extra.errors?.length === 20 && err.extra.errors[0]!.path === 'line 1');
  assert.throws(() => parseBankFile('json', { signals: [{ type: 'pdq', value: pdq, robust: { global: ['zz'], centre: [], anchors: [] } }] }), (err: AppError) => err.extra.errors?.[0]?.path === '/signals/0/robust');
  assert.throws(() => parseBankFile('te', '{"data":'), (err: AppError) => err.code === 'malformed_json');
});

test('writes HMA lines and ThreatExchange records that read back the same', () => {
  const rows = [row(1, 'pdq', pdq, 'l1'), row(2, 'md5', 'a'.repeat(32)), row(3, 'sha256', 'b'.repeat(64)), row(4, 'vpdq', `["${pdq},100,0.000"]`)];
  const hma = formatBankFile('hma', bank, rows);
  assert.equal(hma.body, `pdq ${pdq}\nvideo_md5 ${'a'.repeat(32)}\nvideo_sha256 ${'b'.repeat(64)}\nvpdq ["${pdq},100,0.000"]\n`);
  assert.deepEqual(parseBankFile('hma', hma.body).entries.map((e) => e.value), rows.map((r) => r.value));
  const te = formatBankFile('te', bank, rows);
  assert.equal(te.skipped, 1);
  const parsed = JSON.parse(te.body) as { data: Array<{ type: string; added_on?: string; descriptors: { data: Array<{ added_on: string; tags: string[] }> } }> };
  assert.deepEqual(parsed.data.map((d) => d.type), ['HASH_PDQ', 'HASH_MD5', 'HASH_SHA256']);
  assert.equal(parsed.data[0]!.descriptors.data[0]!.added_on, '2023-11-14T22:13:20+0000');
  assert.deepEqual(parseBankFile('te', te.body).entries.map((e) => [e.type, e.value, e.label]), [['pdq', pdq, 'l1'], ['md5', 'a'.repeat(32), null], ['sha256', 'b'.repeat(64), null]]);
});
