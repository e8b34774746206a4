/**
 * Bank files other platforms read and write:
 * - hma: the signal file Meta's Hasher-Matcher-Actioner and python-threatexchange load
 *   (LocalFileSignalExchangeAPI): one `<signal_type> <signal>` per line, type names as
 *   python-threatexchange spells them (`pdq`, `vpdq`, `video_md5`, `video_sha256`).
 * - te: ThreatExchange's /threat_updates records (`{data:[{id, indicator, type: "HASH_PDQ",
 *   last_updated, should_delete, descriptors:{data:[{tags, …}]}}]}`).
 * - json: MMD's own, which also carries the crop-resistant hash sets (the others cannot), so a
 *   bank moved between MMD instances keeps matching crops.
 * Facts about the formats come from facebook/ThreatExchange; the code is MMD's.
 */
import { decodeVideoSignature, ROBUST_SET_MAX_ANCHORS } from '@mmd/phash';
import { BANK_CATEGORIES, type Bank, type BankFormat, type RobustHashSet, type SignalType } from '@mmd/contracts';
import { AppError } from '../errors.ts';
import { normaliseSignal } from './hash-codec.ts';
import type { SignalRow } from './store.ts';

export interface ImportedEntry {
  type: SignalType;
  value: string;
  label: string | null;
  /** JSON robust set (json format only). */
  robust: string | null;
}

const HMA_TYPES: Record<string, SignalType> = {
  pdq: 'pdq',
  vpdq: 'vpdq',
  video_md5: 'md5',
  photo_md5: 'md5',
  md5: 'md5',
  video_sha256: 'sha256',
  photo_sha256: 'sha256',
  sha256: 'sha256',
};
// HMA names exact hashes after videos, its only content type for them; they match any file here.
const HMA_NAMES: Record<SignalType, string> = { pdq: 'pdq', vpdq: 'vpdq', md5: 'video_md5', sha256: 'video_sha256' };

const TE_TYPES: Record<string, SignalType> = {
  HASH_PDQ: 'pdq',
  HASH_MD5: 'md5',
  HASH_VIDEO_MD5: 'md5',
  HASH_PHOTO_MD5: 'md5',
  HASH_SHA256: 'sha256',
  HASH_VIDEO_SHA256: 'sha256',
  HASH_PHOTO_SHA256: 'sha256',
};
const TE_NAMES: Partial<Record<SignalType, string>> = { pdq: 'HASH_PDQ', md5: 'HASH_MD5', sha256: 'HASH_SHA256' };

const MAX_ERRORS = 20;

class Problems {
  readonly list: { path: string; message: string }[] = [];
  add(path: string, message: string) {
    if (this.list.length < MAX_ERRORS) this.list.push({ path, message });
  }
  entry(path: string, type: SignalType, value: unknown, label: unknown, robust: string | null = null): ImportedEntry | null {
    if (typeof value !== 'string' || value.length === 0) {
      this.add(path, 'missing hash value');
      return null;
    }
    try {
      const normal = normaliseSignal(type, value, path);
      const text = typeof label === 'string' && label.trim() ? label.trim().slice(0, 200) : null;
      return { type, value: normal.value, label: text, robust };
    } catch (err) {
      this.add(path, (err as AppError).message);
      return null;
    }
  }
  throwIfAny() {
    if (this.list.length > 0) {
      throw new AppError('validation_failed', `the file has ${this.list.length >= MAX_ERRORS ? 'many' : this.list.length} bad entr${this.list.length === 1 ? 'y' : 'ies'}: ${this.list[0]!.path} ${this.list[0]!.message}`, { errors: this.list });
    }
  }
}

function asText(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  throw new AppError('validation_failed', 'the hma format is text: send it as text/plain', { errors: [{ path: 'body', message: 'expected text' }] });
}

function asJson(body: unknown): unknown {
  if (typeof body === 'string' || Buffer.isBuffer(body)) {
    try {
      return JSON.parse(body.toString());
    } catch (err) {
      throw new AppError('malformed_json', `the file is not valid JSON: ${(err as Error).message}`);
    }
  }
  return body;
}

/** Whether `v` is a robust set within a stored set's limits (its version's anchors, 8 whole-picture and 8 centre hashes). */
export function isRobustSet(v: unknown): v is RobustHashSet {
  const hex = (h: unknown) => typeof h === 'string' && /^[0-9a-f]{64}$/i.test(h);
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    (r.v === undefined || r.v === 2 || r.v === 3 || r.v === 4) &&
    // An unknown scheme is refused, not stored: its hashes could never be compared.
    (r.scheme === undefined || r.scheme === 1 || r.scheme === 2) &&
    Array.isArray(r.global) && r.global.length <= 8 && r.global.every(hex) &&
    Array.isArray(r.centre) && r.centre.length <= 8 && r.centre.every(hex) &&
    // v3 sets (three reference scales) carry up to 96 anchors, v4 sets up to 192, as exports from MMD do.
    Array.isArray(r.anchors) && r.anchors.length <= ROBUST_SET_MAX_ANCHORS[r.v === 3 || r.v === 4 ? r.v : 2] &&
    r.anchors.every((a: unknown) => typeof a === 'object' && a !== null && hex((a as { hash: unknown }).hash) && Number.isFinite((a as { x: unknown }).x) && Number.isFinite((a as { y: unknown }).y))
  );
}

/** Reads a bank file. Entries of kinds MMD does not match (URLs, text, TMK…) and tombstones are counted as skipped. */
export function parseBankFile(format: BankFormat, body: unknown): { entries: ImportedEntry[]; skipped: number } {
  const problems = new Problems();
  const entries: ImportedEntry[] = [];
  let skipped = 0;
  if (format === 'hma') {
    const lines = asText(body).split(/\r?\n/);
    lines.forEach((raw, i) => {
      const line = raw.trim();
      if (line === '' || line.startsWith('#')) return;
      const space = line.indexOf(' ');
      const name = (space < 0 ? line : line.slice(0, space)).toLowerCase();
      const type = HMA_TYPES[name];
      if (!type) {
        skipped++;
        return;
      }
      const e = problems.entry(`line ${i + 1}`, type, space < 0 ? '' : line.slice(space + 1).trim(), null);
      if (e) entries.push(e);
    });
  } else if (format === 'te') {
    const doc = asJson(body);
    const records = Array.isArray(doc) ? doc : (doc as { data?: unknown })?.data;
    if (!Array.isArray(records)) throw new AppError('validation_failed', 'a ThreatExchange file is {"data":[…]} or a list of records', { errors: [{ path: 'body/data', message: 'expected a list' }] });
    records.forEach((rec: unknown, i) => {
      const r = (typeof rec === 'object' && rec !== null ? rec : {}) as Record<string, unknown>;
      const type = TE_TYPES[String(r.type ?? r.indicator_type ?? '')];
      if (!type || r.should_delete === true) {
        skipped++;
        return;
      }
      const descriptors = (r.descriptors as { data?: Array<{ tags?: unknown }> } | undefined)?.data ?? [];
      // Our own exports tag each record with the bank's category; that is not a label.
      const tags = [...descriptors.flatMap((d) => (Array.isArray(d.tags) ? d.tags : [])), ...(Array.isArray(r.tags) ? r.tags : [])].filter((t): t is string => typeof t === 'string' && !(BANK_CATEGORIES as readonly string[]).includes(t));
      const indicator = typeof r.indicator === 'object' && r.indicator !== null ? (r.indicator as { indicator?: unknown }).indicator : (r.indicator ?? r.raw_indicator);
      const e = problems.entry(`/data/${i}/indicator`, type, indicator, tags.join(' '));
      if (e) entries.push(e);
    });
  } else {
    const doc = asJson(body) as { signals?: unknown };
    if (!Array.isArray(doc?.signals)) throw new AppError('validation_failed', 'an MMD bank file has a "signals" list', { errors: [{ path: 'body/signals', message: 'expected a list' }] });
    doc.signals.forEach((s: unknown, i) => {
      const r = (typeof s === 'object' && s !== null ? s : {}) as Record<string, unknown>;
      const type = r.type as SignalType;
      if (!['pdq', 'vpdq', 'sha256', 'md5'].includes(type)) {
        problems.add(`/signals/${i}/type`, 'must be pdq, vpdq, sha256 or md5');
        return;
      }
      let robust: string | null = null;
      if (r.robust !== undefined && r.robust !== null) {
        if (type !== 'pdq' || !isRobustSet(r.robust)) {
          problems.add(`/signals/${i}/robust`, 'not a crop-resistant hash set (pdq only)');
          return;
        }
        robust = JSON.stringify(r.robust);
      }
      if (r.video_signature !== undefined && r.video_signature !== null) {
        // MMD's robust video signature of a vPDQ signal (base64, as exported).
        const text = typeof r.video_signature === 'string' ? r.video_signature : '';
        let ok = type === 'vpdq' && text.length > 0;
        if (ok) {
          try {
            decodeVideoSignature(text);
          } catch {
            ok = false;
          }
        }
        if (!ok) {
          problems.add(`/signals/${i}/video_signature`, 'not an MMD video signature (vpdq only)');
          return;
        }
        robust = text;
      }
      const e = problems.entry(`/signals/${i}/value`, type, r.value, r.label, robust);
      if (e) entries.push(e);
    });
  }
  problems.throwIfAny();
  return { entries, skipped };
}

/** Writes a bank in a format; `skipped` counts signals the format cannot express. */
export function formatBankFile(format: BankFormat, bank: Bank, signals: SignalRow[]): { body: string; contentType: string; extension: string; skipped: number } {
  if (format === 'hma') {
    const lines = signals.map((s) => `${HMA_NAMES[s.type]} ${s.value}`);
    return { body: lines.length ? `${lines.join('\n')}\n` : '', contentType: 'text/plain; charset=utf-8', extension: 'txt', skipped: 0 };
  }
  if (format === 'te') {
    let skipped = 0;
    const data = [];
    for (const s of signals) {
      const type = TE_NAMES[s.type];
      if (!type) {
        skipped++;
        continue;
      }
      const added = new Date(Number(s.created_at)).toISOString().replace(/\.\d{3}Z$/, '+0000');
      data.push({
        id: String(s.id),
        indicator: s.value,
        type,
        last_updated: Math.floor(Number(s.created_at) / 1000),
        should_delete: false,
        descriptors: { data: [{ id: `${bank.id}:${s.id}`, owner: { id: 'mmd' }, tags: [bank.category, ...(s.label ? [s.label] : [])], status: 'MALICIOUS', added_on: added }] },
      });
    }
    return { body: JSON.stringify({ data }), contentType: 'application/json', extension: 'json', skipped };
  }
  const doc = {
    format: 'mmd-bank',
    version: 1,
    bank: { name: bank.name, category: bank.category, source: bank.source, action: bank.action, pdq_threshold: bank.pdq_threshold },
    signals: signals.map((s) => ({
      type: s.type,
      value: s.value,
      label: s.label,
      // A vPDQ signal's robust column holds MMD's video signature (base64); a PDQ's, its JSON set.
      ...(s.robust ? (s.type === 'vpdq' ? { video_signature: s.robust } : { robust: JSON.parse(s.robust) as RobustHashSet }) : {}),
    })),
  };
  return { body: JSON.stringify(doc), contentType: 'application/json', extension: 'json', skipped: 0 };
}
