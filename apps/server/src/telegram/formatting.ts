/**
 * Telegram's text formatting. MMD messages carry plain text (no markup is stored or rendered), so
 * `parse_mode` text is turned into what a reader should see — the markup removed, escapes undone —
 * and its formatting into Telegram MessageEntity objects (offsets and lengths in UTF-16 code units,
 * as the Bot API counts), which the bot gets back on its own messages. Badly formed markup is
 * refused as Telegram refuses it: "Bad Request: can't parse entities: …".
 */
import { badRequest } from './errors.ts';

export interface MessageEntity {
  type: string;
  offset: number;
  length: number;
  url?: string;
  language?: string;
  user?: unknown;
  custom_emoji_id?: string;
}

export interface Formatted {
  text: string;
  entities: MessageEntity[];
}

const cannotParse = (why: string) => badRequest(`can't parse entities: ${why}`);

const HTML_TAGS: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  code: 'code',
  pre: 'pre',
  a: 'text_link',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
  span: 'spoiler',
};

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

function decodeEntity(name: string): string {
  if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
  if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
  const v = NAMED[name];
  if (v === undefined) throw cannotParse(`unsupported HTML entity "&${name};"`);
  return v;
}

function attribute(attrs: string, name: string): string | undefined {
  const m = new RegExp(`${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(attrs);
  if (!m) return undefined;
  return (m[1] ?? m[2] ?? m[3] ?? '').replace(/&(#?[A-Za-z0-9]+);/g, (_all, e: string) => decodeEntity(e));
}

/** Telegram's HTML style: b, i, u, s, tg-spoiler, a href, code, pre (with a language-… code), blockquote. */
export function parseHtml(source: string): Formatted {
  let text = '';
  const entities: MessageEntity[] = [];
  const open: { tag: string; entity: MessageEntity }[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '<') {
      const end = source.indexOf('>', i);
      if (end < 0) throw cannotParse(`unclosed start tag at byte offset ${i}`);
      const inner = source.slice(i + 1, end);
      i = end + 1;
      if (inner.startsWith('/')) {
        const tag = inner.slice(1).trim().toLowerCase();
        const top = open.pop();
        if (!top || top.tag !== tag) throw cannotParse(`unmatched end tag "${tag}"`);
        top.entity.length = text.length - top.entity.offset;
        // A pre wrapping a code with a language: one pre entity carrying the language.
        if (top.entity.type === 'code' && open.at(-1)?.entity.type === 'pre' && top.entity.language) {
          open.at(-1)!.entity.language = top.entity.language;
          continue;
        }
        delete top.entity.language;
        if (top.entity.length > 0) entities.push(top.entity);
        continue;
      }
      const m = /^([A-Za-z][A-Za-z0-9-]*)\s*([\s\S]*)$/.exec(inner);
      if (!m) throw cannotParse(`bad tag at byte offset ${i}`);
      const tag = m[1]!.toLowerCase();
      const attrs = m[2] ?? '';
      const type = HTML_TAGS[tag];
      if (!type) throw cannotParse(`unsupported start tag "${tag}"`);
      const entity: MessageEntity = { type, offset: text.length, length: 0 };
      if (tag === 'a') {
        const href = attribute(attrs, 'href');
        if (!href) throw cannotParse('a tag without href');
        const user = /^tg:\/\/user\?id=(\d+)$/.exec(href);
        if (user) entity.type = 'text_mention';
        entity.url = href;
      }
      if (tag === 'span' && attribute(attrs, 'class') !== 'tg-spoiler') throw cannotParse('span needs class="tg-spoiler"');
      if (tag === 'blockquote' && /\bexpandable\b/.test(attrs)) entity.type = 'expandable_blockquote';
      if (tag === 'code') {
        const lang = /^language-(.+)$/.exec(attribute(attrs, 'class') ?? '');
        if (lang) entity.language = lang[1];
      }
      if (tag === 'tg-emoji') entity.custom_emoji_id = attribute(attrs, 'emoji-id');
      open.push({ tag, entity });
      continue;
    }
    if (ch === '&') {
      // Entity names are short: look for the ';' nearby only (a text of many '&' stays linear).
      const end = source.slice(i, i + 12).indexOf(';') + i;
      const name = end > i ? source.slice(i + 1, end) : '';
      if (/^(#\d+|#x[0-9a-fA-F]+|[a-z]+)$/.test(name) && (name.startsWith('#') || name in NAMED)) {
        text += decodeEntity(name);
        i = end + 1;
        continue;
      }
      // Telegram leaves an unknown entity as it is written.
      text += ch;
      i++;
      continue;
    }
    text += ch;
    i++;
  }
  if (open.length > 0) throw cannotParse(`can't find end tag corresponding to start tag "${open.at(-1)!.tag}"`);
  return finish(text, entities);
}

/** Characters MarkdownV2 wants escaped outside code. */
const MDV2_SPECIAL = '_*[]()~`>#+-=|{}.!';

/** MarkdownV2: *bold* _italic_ __underline__ ~strike~ ||spoiler|| [text](url) `code` ```lang pre``` >quote, \-escapes. */
export function parseMarkdownV2(source: string): Formatted {
  let text = '';
  const entities: MessageEntity[] = [];
  const open: { marker: string; entity: MessageEntity }[] = [];
  let i = 0;
  let lineStart = true;
  let quote: MessageEntity | null = null;
  const closeQuote = () => {
    if (quote) {
      quote.length = text.length - quote.offset;
      // The newline that ends a quote is not part of it.
      if (text.endsWith('\n')) quote.length -= 1;
      if (quote.length > 0) entities.push(quote);
      quote = null;
    }
  };
  while (i < source.length) {
    const ch = source[i]!;
    if (lineStart) {
      lineStart = false;
      if (ch === '>' || (ch === '*' && source[i + 1] === '*' && source[i + 2] === '>')) {
        const expandable = ch === '*';
        if (!quote) quote = { type: expandable ? 'expandable_blockquote' : 'blockquote', offset: text.length, length: 0 };
        i += expandable ? 3 : 1;
        continue;
      }
      closeQuote();
    }
    if (ch === '\\') {
      const next = source[i + 1];
      if (next === undefined) throw cannotParse('a backslash ends the text');
      text += next;
      i += 2;
      continue;
    }
    if (ch === '\n') {
      text += ch;
      i++;
      lineStart = true;
      continue;
    }
    if (ch === '`') {
      if (source.startsWith('```', i)) {
        const end = source.indexOf('```', i + 3);
        if (end < 0) throw cannotParse("can't find end of pre entity");
        let body = source.slice(i + 3, end);
        let language: string | undefined;
        const nl = body.indexOf('\n');
        if (nl >= 0 && /^[A-Za-z0-9_+#.-]+$/.test(body.slice(0, nl))) {
          language = body.slice(0, nl);
          body = body.slice(nl + 1);
        } else if (nl === 0) body = body.slice(1);
        const plain = body.replace(/\\([`\\])/g, '$1');
        entities.push({ type: 'pre', offset: text.length, length: plain.length, ...(language ? { language } : {}) });
        text += plain;
        i = end + 3;
        continue;
      }
      const end = findUnescaped(source, '`', i + 1);
      if (end < 0) throw cannotParse("can't find end of code entity");
      const plain = source.slice(i + 1, end).replace(/\\([`\\])/g, '$1');
      entities.push({ type: 'code', offset: text.length, length: plain.length });
      text += plain;
      i = end + 1;
      continue;
    }
    if (ch === '[') {
      open.push({ marker: '[', entity: { type: 'text_link', offset: text.length, length: 0 } });
      i++;
      continue;
    }
    if (ch === ']') {
      const top = open.pop();
      if (top?.marker !== '[') throw cannotParse("character ']' is reserved and must be escaped with the preceding '\\'");
      if (source[i + 1] !== '(') throw cannotParse('a link needs (url) after ]');
      const end = findUnescaped(source, ')', i + 2);
      if (end < 0) throw cannotParse("can't find end of a URL");
      const url = source.slice(i + 2, end).replace(/\\([)\\])/g, '$1');
      top.entity.length = text.length - top.entity.offset;
      top.entity.url = url;
      if (/^tg:\/\/user\?id=\d+$/.test(url)) top.entity.type = 'text_mention';
      if (top.entity.length > 0) entities.push(top.entity);
      i = end + 1;
      continue;
    }
    const marker = source.startsWith('__', i) ? '__' : source.startsWith('||', i) ? '||' : ch === '*' || ch === '_' || ch === '~' ? ch : null;
    if (marker) {
      const type = { '*': 'bold', _: 'italic', __: 'underline', '~': 'strikethrough', '||': 'spoiler' }[marker]!;
      const top = open.at(-1);
      const idx = open.map((o) => o.marker).lastIndexOf(marker);
      if (idx >= 0) {
        if (top!.marker !== marker) throw cannotParse(`can't find end of ${top!.entity.type} entity`);
        open.pop();
        top!.entity.length = text.length - top!.entity.offset;
        if (top!.entity.length > 0) entities.push(top!.entity);
      } else open.push({ marker, entity: { type, offset: text.length, length: 0 } });
      i += marker.length;
      continue;
    }
    if (MDV2_SPECIAL.includes(ch)) throw cannotParse(`character '${ch}' is reserved and must be escaped with the preceding '\\'`);
    text += ch;
    i++;
  }
  closeQuote();
  if (open.length > 0) throw cannotParse(`can't find end of ${open.at(-1)!.entity.type} entity`);
  return finish(text, entities);
}

/** Legacy Markdown: *bold* _italic_ `code` ```pre``` [text](url); no nesting, \ escapes only the markers. */
export function parseMarkdown(source: string): Formatted {
  let text = '';
  const entities: MessageEntity[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === '\\' && '_*`['.includes(source[i + 1] ?? '')) {
      text += source[i + 1];
      i += 2;
      continue;
    }
    if (source.startsWith('```', i)) {
      const end = source.indexOf('```', i + 3);
      if (end < 0) throw cannotParse("can't find end of the entity starting at byte offset " + i);
      let body = source.slice(i + 3, end);
      let language: string | undefined;
      const nl = body.indexOf('\n');
      if (nl > 0 && /^[A-Za-z0-9_+#.-]+$/.test(body.slice(0, nl))) {
        language = body.slice(0, nl);
        body = body.slice(nl + 1);
      }
      entities.push({ type: 'pre', offset: text.length, length: body.length, ...(language ? { language } : {}) });
      text += body;
      i = end + 3;
      continue;
    }
    if (ch === '*' || ch === '_' || ch === '`') {
      const end = source.indexOf(ch, i + 1);
      if (end < 0) throw cannotParse(`can't find end of the entity starting at byte offset ${i}`);
      const body = source.slice(i + 1, end);
      entities.push({ type: ch === '*' ? 'bold' : ch === '_' ? 'italic' : 'code', offset: text.length, length: body.length });
      text += body;
      i = end + 1;
      continue;
    }
    if (ch === '[') {
      const m = /^\[([^\]]*)\]\(([^)]*)\)/.exec(source.slice(i));
      if (!m) throw cannotParse(`can't find end of the entity starting at byte offset ${i}`);
      entities.push({ type: 'text_link', offset: text.length, length: m[1]!.length, url: m[2]! });
      text += m[1];
      i += m[0].length;
      continue;
    }
    text += ch;
    i++;
  }
  return finish(text, entities.filter((e) => e.length > 0));
}

function findUnescaped(source: string, ch: string, from: number): number {
  for (let j = from; j < source.length; j++) {
    if (source[j] === '\\') {
      j++;
      continue;
    }
    if (source[j] === ch) return j;
  }
  return -1;
}

function finish(text: string, entities: MessageEntity[]): Formatted {
  entities.sort((a, b) => a.offset - b.offset || b.length - a.length);
  return { text, entities };
}

/** Text and entities from a parse_mode (or the entities given), or refused. */
export function format(text: string, parseMode: string | undefined, given: MessageEntity[] | undefined): Formatted {
  // Markup can at most quadruple a text or so; anything far beyond the longest message is refused unparsed.
  if (text.length > 16 * 4096) throw badRequest('message is too long');
  if (given && given.length > 0) return { text, entities: given };
  switch ((parseMode ?? '').toLowerCase()) {
    case '':
      return { text, entities: [] };
    case 'html':
      return parseHtml(text);
    case 'markdownv2':
      return parseMarkdownV2(text);
    case 'markdown':
      return parseMarkdown(text);
    default:
      throw badRequest(`unsupported parse_mode "${parseMode}"`);
  }
}

/**
 * What Telegram's servers find in a person's text on their own: commands (what command routers
 * look for at offset 0), @mentions, #hashtags and links.
 */
export function detectEntities(text: string): MessageEntity[] {
  const found: MessageEntity[] = [];
  const patterns: [RegExp, string][] = [
    [/(^|[\s(])(\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,64})?)(?![A-Za-z0-9_@/])/g, 'bot_command'],
    [/(^|[\s(])(@[A-Za-z0-9_]{3,64})(?![A-Za-z0-9_])/g, 'mention'],
    [/(^|[\s(])(#[\p{L}\p{N}_]{1,64})/gu, 'hashtag'],
    [/(^|[\s(])(https?:\/\/[^\s<>"]+[^\s<>".,;:!?)\]'])/g, 'url'],
  ];
  for (const [re, type] of patterns) {
    for (const m of text.matchAll(re)) found.push({ type, offset: m.index + m[1]!.length, length: m[2]!.length });
  }
  return finish(text, found).entities;
}
