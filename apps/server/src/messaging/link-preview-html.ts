/**
 * Reads a link preview's fields from the head of a web page: Open Graph (`og:title`,
 * `og:description`, `og:image`, `og:site_name`), Twitter cards, `<meta name=description>` and
 * `<title>`. A bounded scanner, not an HTML parser: it reads at most the first MAX_HTML_CHARS of
 * the page, stops at `</head>` (or `<body`), looks only at `<meta …>` tags of bounded length and
 * the first `<title>`; every pattern is linear (no nested quantifiers). Values come back as plain
 * text (entities decoded, whitespace collapsed, cut to a length): clients show them as text.
 */

/** What is read of a page at most (its metadata is in the head, near the top). */
export const MAX_HTML_CHARS = 256 * 1024;
export const MAX_TITLE = 200;
export const MAX_DESCRIPTION = 400;

export interface PageMeta {
  title: string | null;
  description: string | null;
  siteName: string | null;
  /** As written in the page: resolve it against the page's URL. */
  image: string | null;
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', '#39': "'" };

function decode(value: string): string {
  return value.replace(/&(#x[0-9a-f]{1,6}|#[0-9]{1,7}|[a-z]{2,8});/gi, (all, name: string) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : '';
    }
    return NAMED[name.toLowerCase()] ?? all;
  });
}

/** Plain, single-line, cut at `max` characters (never inside a surrogate pair); null when empty. */
function clean(value: string | undefined, max: number): string | null {
  if (value === undefined) return null;
  // Control characters (and bidi overrides) go; whitespace runs become one space.
  const text = decode(value)
    .replace(/\p{Cc}|[\u202a-\u202e\u2066-\u2069]/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  if (!text) return null;
  if (text.length <= max) return text;
  const cut = [...text.slice(0, max)].join('');
  return `${cut.replace(/[\ud800-\udbff]$/, '').trimEnd()}…`;
}

/** A tag longer than this is skipped. */
const MAX_TAG = 8000;

/** `name=value` pairs of one tag's inside, by one left-to-right pass (no backtracking). */
function attributes(inside: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  const n = inside.length;
  const space = (c: string | undefined) => c === ' ' || c === '\n' || c === '\t' || c === '\r' || c === '\f' || c === '/';
  while (i < n) {
    while (i < n && space(inside[i])) i++;
    const nameStart = i;
    while (i < n && !space(inside[i]) && inside[i] !== '=') i++;
    const name = inside.slice(nameStart, i).toLowerCase();
    while (i < n && space(inside[i])) i++;
    if (inside[i] !== '=') {
      if (i === nameStart) i++;
      continue;
    }
    i++;
    while (i < n && space(inside[i])) i++;
    const quote = inside[i];
    let value: string;
    if (quote === '"' || quote === "'") {
      const close = inside.indexOf(quote, i + 1);
      const stop = close < 0 ? n : close;
      value = inside.slice(i + 1, stop);
      i = stop + 1;
    } else {
      const valueStart = i;
      while (i < n && !space(inside[i])) i++;
      value = inside.slice(valueStart, i);
    }
    if (name) out.push([name, value]);
  }
  return out;
}

/** Each `<name …>` tag's inside and where it ends, in order; one pass over the text. */
function* tags(head: string, lower: string, name: string): Generator<{ inside: string; end: number }> {
  const open = `<${name}`;
  let from = 0;
  for (;;) {
    const at = lower.indexOf(open, from);
    if (at < 0) return;
    const after = lower[at + open.length];
    const gt = lower.indexOf('>', at);
    if (gt < 0) return;
    from = gt + 1;
    if (after !== undefined && after !== '>' && !/\s|\//.test(after)) continue;
    if (gt - at > MAX_TAG) continue;
    yield { inside: head.slice(at + open.length, gt), end: gt + 1 };
  }
}

export function parsePageMeta(html: string): PageMeta {
  let head = html.slice(0, MAX_HTML_CHARS);
  const end = head.search(/<\/head\s*>|<body[\s>]/i);
  if (end >= 0) head = head.slice(0, end);
  const lower = head.toLowerCase();
  const found = new Map<string, string>();
  for (const { inside } of tags(head, lower, 'meta')) {
    let key: string | undefined;
    let content: string | undefined;
    for (const [name, value] of attributes(inside)) {
      if (name === 'property' || name === 'name') key ??= value.trim().toLowerCase();
      else if (name === 'content') content = value;
    }
    // The first of each wins, as crawlers do.
    if (key && content !== undefined && !found.has(key)) found.set(key, content);
  }
  let titleTag: string | undefined;
  for (const { end: start } of tags(head, lower, 'title')) {
    const close = lower.indexOf('<', start);
    titleTag = head.slice(start, Math.min(close < 0 ? head.length : close, start + 2000));
    break;
  }
  const pick = (...keys: string[]) => keys.map((k) => found.get(k)).find((v) => v !== undefined && v.trim() !== '');
  return {
    title: clean(pick('og:title', 'twitter:title') ?? titleTag, MAX_TITLE),
    description: clean(pick('og:description', 'twitter:description', 'description'), MAX_DESCRIPTION),
    siteName: clean(pick('og:site_name'), 80),
    image: pick('og:image:secure_url', 'og:image', 'og:image:url', 'twitter:image', 'twitter:image:src')?.trim() ?? null,
  };
}
