import { randomBytes } from 'node:crypto';

type Prefix = 'acc' | 'pph' | 'dev' | 'key' | 'cnv' | 'msg' | 'med' | 'inv' | 'whk' | 'whd' | 'rul' | 'tpl' | 'cbq' | 'nte' | 'cmp' | 'ntf' | 'psh';

/**
 * Messages and conversations are written by the thousand a second (a campaign), and each id is
 * a key in several B-trees: a random key lands on a random page, so a batch of 200 dirtied
 * hundreds of pages per index and every commit wrote megabytes to the WAL. These ids start with
 * the time (8 characters of base 62 in ASCII order, milliseconds), so a batch's keys share a few
 * pages at the right edge of each index; the 96 random bits after it keep them unguessable. The
 * time they show is the row's own `created_at`, already visible to whoever can see it.
 */
const ORDERED: ReadonlySet<Prefix> = new Set(['cnv', 'msg', 'ntf']);
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function timePart(ms: number): string {
  let n = Math.max(0, Math.floor(ms));
  let out = '';
  for (let i = 0; i < 8; i += 1) {
    out = BASE62[n % 62]! + out;
    n = Math.floor(n / 62);
  }
  return out;
}

/**
 * Random bytes drawn 3,072 at a time: a campaign makes two ids per message, and one call into
 * the system's generator per id was 2% of a send's CPU. Each id still gets bytes no other had.
 */
let pool = Buffer.alloc(0);
let used = 0;
function randomChars(bytes: number): string {
  if (used + bytes > pool.length) {
    pool = randomBytes(12 * 256);
    used = 0;
  }
  used += bytes;
  return pool.toString('base64url', used - bytes, used);
}
const random12 = () => randomChars(12);

/** Unguessable ids with a prefix that says what they name (acc_…, msg_…). */
export function newId(prefix: Prefix, now: number = Date.now()): string {
  const random = random12();
  return ORDERED.has(prefix) ? `${prefix}_${timePart(now)}${random}` : `${prefix}_${random}`;
}

/**
 * A contact's id: the id of its account (without the prefix), then 48 random bits. A business's
 * contacts then sort as their accounts do, and a campaign, which sends in contact order, reaches
 * people in account order: each batch's reads and writes keyed by the person (their account, chat
 * memberships, sync events, consent, caps) fall on neighbouring index pages instead of one page
 * each. At a million recipients that locality was most of the send rate (docs/benchmarks.md).
 * The account id it shows is the contact's own `account_id`, already in every contact view.
 */
export function contactIdFor(accountId: string): string {
  return `ct_${accountId.slice(accountId.indexOf('_') + 1)}${randomChars(6)}`;
}
