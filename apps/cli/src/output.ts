/**
 * Everything the CLI prints on stdout. Human output is aligned text; with --json each result is
 * one compact JSON value per line, so scripts can pipe it to jq or read it line by line.
 */
import type { Conversation, Message } from '@mmd/sdk';
import type { Globals } from './context.ts';

export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value)}\n`);
}

/** Prints `data` as JSON with --json, otherwise the human rendering. */
export function emit(g: Globals, data: unknown, human: () => string | string[]): void {
  if (g.json) {
    printJson(data);
    return;
  }
  const text = human();
  for (const line of Array.isArray(text) ? text : [text]) printLine(line);
}

/** Pads columns to line up; the last column is never padded, so lines have no trailing spaces. */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
    });
  }
  return rows.map((row) =>
    row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  '),
  );
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local time: just the clock for today, with the date otherwise. */
export function formatTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  if (d.toDateString() === new Date(now).toDateString()) return clock;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock}`;
}

export function messageText(m: Message): string {
  if (m.deleted) return '(deleted)';
  const text = m.text ?? (m.forward ? '(forwarded message)' : '(no text)');
  return m.edited_at !== null ? `${text} (edited)` : text;
}

/**
 * `[time] @sender: text`, the one-line form used by history and tail; `where` names the chat
 * when lines from several are mixed: `[time] #news | @sender: text`.
 */
export function messageLine(m: Message, options: { at?: number; where?: string } = {}): string {
  const where = options.where ? `${options.where} | ` : '';
  return `[${formatTime(options.at ?? m.created_at)}] ${where}@${m.sender_handle}: ${messageText(m)}`;
}

/** A short name for a conversation: #channel, @peer for a direct chat, else its title. */
export function conversationLabel(
  c: Pick<Conversation, 'id' | 'kind' | 'title' | 'handle' | 'peer'>,
): string {
  if (c.kind === 'channel' && c.handle) return `#${c.handle}`;
  if (c.kind === 'direct' && c.peer) return `@${c.peer.handle}`;
  return c.title ?? c.id;
}
