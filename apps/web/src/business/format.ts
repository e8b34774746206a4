/** Dates, counts and percentages as the business console shows them, in the reader's locale. */

/** "5 Dec 2026". */
export function day(ms: number): string {
  return new Date(ms).toLocaleDateString(undefined, { dateStyle: 'medium' });
}

/** "5 Dec 2026, 14:05". */
export function when(ms: number): string {
  return new Date(ms).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

/** "1,234". */
export function count(n: number): string {
  return n.toLocaleString();
}

/** "1 contact", "2 contacts". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${count(n)} ${n === 1 ? one : many}`;
}

/** "42%" of a whole, "—" when the whole is nothing. */
export function percent(part: number, whole: number): string {
  if (whole <= 0) return '—';
  return `${((100 * part) / whole).toLocaleString(undefined, { maximumFractionDigits: 1 })}%`;
}
