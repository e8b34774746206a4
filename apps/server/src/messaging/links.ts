/**
 * Links shared in messages, for coordinated-amplification detection (amplification.ts): the same
 * link pushed into many chats by a group of accounts within seconds is co-sharing, as the same
 * picture is. Only what detection needs is kept: a normalised form of the link, who, which chat,
 * when — never the rest of the message. A business's automated messages are outside, as for
 * pictures (campaigns send one link to thousands by design).
 *
 * Normalised so trivial variants count together: scheme and host lower-cased, `www.` and default
 * ports dropped, tracking parameters (`utm_*`, `fbclid`, `gclid`, …) and the fragment removed,
 * the trailing slash trimmed.
 */
import type { Tx } from '../platform/db/index.ts';

/** Links read from one message at most (the rest are ignored). */
export const MAX_LINKS_PER_MESSAGE = 5;

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRACKING = /^(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_[a-z]+|igshid|si|ref|ref_src)$/i;

/** The normalised links in a message's text (at most MAX_LINKS_PER_MESSAGE, each once). */
export function extractLinks(text: string | null | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(/[).,;:!?\]}]+$/, '');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      continue;
    }
    const host = url.hostname.toLowerCase().replace(/^www\./, '');
    if (!host) continue;
    const params = [...url.searchParams].filter(([k]) => !TRACKING.test(k)).sort(([a], [b]) => a.localeCompare(b));
    const query = params.length ? `?${new URLSearchParams(params).toString()}` : '';
    const path = url.pathname.replace(/\/+$/, '');
    const key = `${host}${url.port && url.port !== '80' && url.port !== '443' ? `:${url.port}` : ''}${path}${query}`.slice(0, 500);
    if (!out.includes(key)) out.push(key);
    if (out.length >= MAX_LINKS_PER_MESSAGE) break;
  }
  return out;
}

/**
 * The http(s) links of a message's text as its sender wrote them (each once, at most
 * MAX_LINKS_PER_MESSAGE): the same pattern as extractLinks, so what search's `link` type finds
 * is what a chat's gallery lists.
 */
export function linksAsWritten(text: string | null | undefined): string[] {
  if (!text) return [];
  const out: string[] = [];
  for (const match of text.matchAll(URL_PATTERN)) {
    const raw = match[0].replace(/[).,;:!?\]}]+$/, '');
    try {
      if (!new URL(raw).hostname) continue;
    } catch {
      continue;
    }
    if (!out.includes(raw)) out.push(raw);
    if (out.length >= MAX_LINKS_PER_MESSAGE) break;
  }
  return out;
}

/** Records a sent message's links (inside the sending transaction). */
export async function recordLinkShares(tx: Tx, o: { messageId: string; conversationId: string; senderId: string; text: string | null; automated: boolean; now: number }): Promise<void> {
  if (o.automated) return;
  const links = extractLinks(o.text);
  if (links.length === 0) return;
  await tx
    .insertInto('link_shares')
    .values(links.map((link) => ({ link, message_id: o.messageId, conversation_id: o.conversationId, sender_id: o.senderId, at: o.now })))
    .execute();
  // Detection looks back a week at most: older rows go as new ones come (index on at).
  await tx.deleteFrom('link_shares').where('at', '<', o.now - LINK_SHARES_KEPT_MS).execute();
}

/** How long a shared link is kept for detection (the console's longest window). */
export const LINK_SHARES_KEPT_MS = 7 * 24 * 3_600_000;

/** A link as the console shows it: its host and the start of its path, never its query. */
export function linkLabel(link: string): string {
  const cut = link.split('?')[0]!;
  return cut.length > 60 ? `${cut.slice(0, 57)}…` : cut;
}

/**
 * A stable negative number per link, so links and clusters (positive) share the detector's
 * numeric key space: FNV-1a over the link, 52 bits.
 */
export function linkKey(link: string): number {
  let h = 0xcbf29ce484222325n;
  for (let i = 0; i < link.length; i++) {
    h ^= BigInt(link.charCodeAt(i));
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return -Number(h & 0xfffffffffffffn) - 1;
}
