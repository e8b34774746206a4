/**
 * Rule patterns run on RE2JS, a port of RE2: matching time is linear in the input, whatever the
 * pattern, so a pattern like `(a+)+$` cannot stall the worker (catastrophic backtracking, ReDoS).
 * RE2 refuses what it cannot do in linear time (backreferences, lookaround) at save time. Patterns
 * are capped at MAX_PATTERN_LENGTH characters and the text matched at MAX_MATCH_INPUT, and compiled
 * patterns are cached (bounded), so a busy business does not recompile per message.
 */
import { RE2JS } from 're2js';

/** Longest part of a message a pattern or keyword list looks at. */
export const MAX_MATCH_INPUT = 4096;

const cache = new Map<string, RE2JS>();

/** Compiles a pattern (throws RE2JS's syntax error for one it cannot run in linear time). */
export function compilePattern(pattern: string, caseSensitive: boolean): RE2JS {
  const key = `${caseSensitive ? 's' : 'i'}:${pattern}`;
  let re = cache.get(key);
  if (!re) {
    re = RE2JS.compile(pattern, caseSensitive ? 0 : RE2JS.CASE_INSENSITIVE);
    if (cache.size >= 500) cache.delete(cache.keys().next().value!);
    cache.set(key, re);
  }
  return re;
}

/** The syntax problem with a pattern, or null when RE2 accepts it. */
export function patternProblem(pattern: string): string | null {
  try {
    compilePattern(pattern, true);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : 'invalid pattern';
  }
}

export function matchesPattern(text: string, pattern: string, caseSensitive: boolean): boolean {
  return compilePattern(pattern, caseSensitive).matcher(text.slice(0, MAX_MATCH_INPUT)).find();
}

function normalise(text: string): string {
  return text.normalize('NFKC').toLocaleLowerCase('en-US');
}

/**
 * Whether any keyword occurs as a whole word or phrase, ignoring case: "price" matches "Price?"
 * and "the price list" but not "priceless". Plain string search, no regular expression built
 * from user input.
 */
export function matchesKeywords(text: string, keywords: readonly string[]): boolean {
  const haystack = normalise(text.slice(0, MAX_MATCH_INPUT));
  const isWordChar = (ch: string | undefined) => ch !== undefined && /[\p{L}\p{N}_]/u.test(ch);
  for (const keyword of keywords) {
    const needle = normalise(keyword.trim());
    if (!needle) continue;
    let from = 0;
    for (;;) {
      const at = haystack.indexOf(needle, from);
      if (at < 0) break;
      if (!isWordChar(haystack[at - 1]) && !isWordChar(haystack[at + needle.length])) return true;
      from = at + 1;
    }
  }
  return false;
}
