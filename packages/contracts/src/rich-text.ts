/**
 * Message formatting as WhatsApp and Telegram write it: `*bold*`, `_italic_`, `~strike~`,
 * `` `mono` ``, ` ```code block``` ` and Telegram's `||spoiler||`, plus http(s) links. The markers
 * are part of a message's text (stored and sent as typed, as both apps do); clients parse the
 * text into a tree of nodes and render each node as a DOM element holding text nodes — never an
 * HTML string — so no text can become markup.
 *
 * Rules (WhatsApp's): an opening marker follows the start, a space or punctuation and is followed
 * by a non-space; a closing marker follows a non-space and is followed by the end, a space or
 * punctuation (so `snake_case_name` and `2*3*4` stay plain); inline styles do not cross a line
 * break; the same style does not nest in itself; code and code blocks are literal inside; a link
 * is atomic (markers inside a URL are part of it).
 *
 * Linear time: every "where is the next closing marker" question is answered from tables built
 * right to left once per text, and every character is examined a bounded number of times, so a
 * text full of unbalanced markers costs what a plain one does.
 */

/** One piece of formatted text. */
export type RichNode =
  | { type: 'text'; text: string }
  | { type: 'bold' | 'italic' | 'strike' | 'spoiler'; children: RichNode[] }
  /** Inline monospace: its text is literal. */
  | { type: 'code'; text: string }
  /** A code block: its text is literal, as written between the fences (renderers drop one leading and trailing line break). */
  | { type: 'pre'; text: string }
  /** An http(s) link written in the text; `url` is the same string, checked to parse as http(s). */
  | { type: 'link'; url: string; text: string };

type Styled = 'bold' | 'italic' | 'strike' | 'spoiler';

const MARKERS: { marker: string; type: Styled }[] = [
  { marker: '*', type: 'bold' },
  { marker: '_', type: 'italic' },
  { marker: '~', type: 'strike' },
  { marker: '||', type: 'spoiler' },
];

// Only http and https, and nothing that could end an attribute or a tag if misused downstream.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
// Punctuation and markers that end a sentence or a span rather than a link.
const URL_TRAILING = /[).,;:!?\]}*_~|]+$/;

/** Longer "links" stay text. */
export const MAX_LINK_LENGTH = 2048;

const isSpace = (ch: string | undefined) => ch === undefined || /\s/.test(ch);
const isWordChar = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}]/u.test(ch);

/** Where each link starts (its end) and which positions lie inside one. */
function findLinks(text: string) {
  const endAt = new Map<number, string>();
  const inside = new Uint8Array(text.length);
  for (const m of text.matchAll(URL_PATTERN)) {
    let raw = m[0];
    // Longer than browsers and servers take: not a link (and never handed to the URL parser).
    if (raw.length > MAX_LINK_LENGTH) continue;
    // Balanced parentheses stay (Wikipedia's links); a closing one with no opening is punctuation.
    const trimmed = raw.replace(URL_TRAILING, '');
    raw = trimmed.length > 0 ? trimmed : raw;
    let ok = false;
    try {
      const u = new URL(raw);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname.length > 0;
    } catch {
      ok = false;
    }
    if (!ok || raw.length <= 'https://'.length) continue;
    endAt.set(m.index, raw);
    inside.fill(1, m.index, m.index + raw.length);
  }
  return { endAt, inside };
}

/**
 * `next[p]`: the smallest position q ≥ p where `valid(q)` holds, or `text.length` when none.
 * Built right to left in one pass.
 */
function nextTable(length: number, valid: (q: number) => boolean): Int32Array {
  const next = new Int32Array(length + 1);
  next[length] = length;
  for (let q = length - 1; q >= 0; q--) next[q] = valid(q) ? q : next[q + 1]!;
  return next;
}

/**
 * The number of elementary steps the last `parseRichText` call took (table entries built, scanner
 * iterations, marker checks): the linearity test counts these instead of timing the parser.
 */
let steps = 0;
export function lastParseSteps(): number {
  return steps;
}

/** Parses a message's text into formatted nodes. Pure; linear in the text's length. */
export function parseRichText(text: string): RichNode[] {
  const n = text.length;
  // Tables: the line ends, one per marker and the two code tables, each one entry per position.
  steps = n * (MARKERS.length + 3);
  const { endAt, inside } = findLinks(text);
  const lineEnd = new Int32Array(n + 1);
  lineEnd[n] = n;
  for (let q = n - 1; q >= 0; q--) lineEnd[q] = text[q] === '\n' ? q : lineEnd[q + 1]!;
  const closers = new Map<string, Int32Array>();
  for (const { marker } of MARKERS) {
    const w = marker.length;
    closers.set(
      marker,
      nextTable(n, (q) => text.startsWith(marker, q) && !inside[q] && !isSpace(text[q - 1]) && text[q - 1] !== marker[0] && !isWordChar(text[q + w]) && text[q + w] !== marker[0]),
    );
  }
  const backtick = nextTable(n, (q) => text[q] === '`');
  const fence = nextTable(n, (q) => text.startsWith('```', q));

  function opens(i: number, marker: string): boolean {
    const w = marker.length;
    if (!text.startsWith(marker, i)) return false;
    if (i > 0 && (isWordChar(text[i - 1]) || text[i - 1] === marker[0])) return false;
    const after = text[i + w];
    return !isSpace(after) && after !== marker[0];
  }

  function parse(start: number, end: number): RichNode[] {
    const out: RichNode[] = [];
    let plainFrom = start;
    const flush = (to: number) => {
      if (to > plainFrom) {
        const last = out.at(-1);
        if (last?.type === 'text') last.text += text.slice(plainFrom, to);
        else out.push({ type: 'text', text: text.slice(plainFrom, to) });
      }
    };
    let i = start;
    while (i < end) {
      steps++;
      const link = endAt.get(i);
      if (link !== undefined && i + link.length <= end) {
        flush(i);
        out.push({ type: 'link', url: link, text: link });
        i += link.length;
        plainFrom = i;
        continue;
      }
      const ch = text[i];
      if (ch === '`') {
        if (text.startsWith('```', i)) {
          const close = fence[i + 3]!;
          if (close + 3 <= end && close > i + 3) {
            flush(i);
            out.push({ type: 'pre', text: text.slice(i + 3, close) });
            i = close + 3;
            plainFrom = i;
            continue;
          }
        } else {
          const close = backtick[i + 1]!;
          if (close < end && close > i + 1 && close <= lineEnd[i]! && !text.startsWith('```', close)) {
            flush(i);
            out.push({ type: 'code', text: text.slice(i + 1, close) });
            i = close + 1;
            plainFrom = i;
            continue;
          }
        }
        i++;
        continue;
      }
      let matched = false;
      for (const { marker, type } of MARKERS) {
        steps++;
        if (ch !== marker[0] || !opens(i, marker)) continue;
        const w = marker.length;
        const close = closers.get(marker)![i + w]!;
        if (close + w > end || close > lineEnd[i]! || close <= i + w) continue;
        flush(i);
        out.push({ type, children: parse(i + w, close) });
        i = close + w;
        plainFrom = i;
        matched = true;
        break;
      }
      if (!matched) i++;
    }
    flush(end);
    return out;
  }

  return parse(0, n);
}

/**
 * The text a reader sees, without markers: for chat-list previews, notifications and screen
 * readers' labels. `hideSpoilers` (default true) replaces a spoiler's text with "▒▒▒" so a preview
 * never reveals it.
 */
export function richTextToPlain(nodes: readonly RichNode[], options: { hideSpoilers?: boolean } = {}): string {
  const hide = options.hideSpoilers ?? true;
  let out = '';
  for (const node of nodes) {
    switch (node.type) {
      case 'text':
      case 'code':
      case 'pre':
      case 'link':
        out += node.text;
        break;
      case 'spoiler':
        out += hide ? '▒▒▒' : richTextToPlain(node.children, options);
        break;
      case 'bold':
      case 'italic':
      case 'strike':
        out += richTextToPlain(node.children, options);
        break;
      default: {
        const never: never = node;
        throw new Error(`unknown node ${(never as RichNode).type}`);
      }
    }
  }
  return out;
}

/** The http(s) links in a text as `parseRichText` finds them (outside code), first to last. */
export function linksOf(nodes: readonly RichNode[]): string[] {
  const out: string[] = [];
  for (const node of nodes) {
    if (node.type === 'link') out.push(node.url);
    else if ('children' in node) out.push(...linksOf(node.children));
  }
  return out;
}
