/**
 * Everything the CLI prints on stdout. Human output is aligned text; with --json each result is
 * one compact JSON value per line, so scripts can pipe it to jq or read it line by line.
 */
import type { Conversation, MediaSummary, Message } from '@mmd/sdk';
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

const MEDIA_KIND = { image: 'photo', video: 'video', audio: 'audio', document: 'document' } as const;

/** `m:ss` (or `h:mm:ss`) from seconds. */
export function formatDuration(seconds: number): string {
  // Whole seconds cut, not rounded, as the web app and browsers' players show them.
  const total = Math.floor(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = pad(total % 60);
  return h > 0 ? `${h}:${pad(m)}:${s}` : `${m}:${s}`;
}

/** One attachment in brackets: `[photo 1280×720]`, `[video 0:12]`, `[document report.pdf]`, `[photo, processing]`. */
export function mediaText(item: MediaSummary): string {
  const parts: string[] = [item.kind ? MEDIA_KIND[item.kind] : 'attachment'];
  if (item.kind === 'image' && item.width && item.height) parts.push(`${item.width}×${item.height}`);
  if ((item.kind === 'video' || item.kind === 'audio') && item.duration !== undefined)
    parts.push(formatDuration(item.duration));
  if (item.kind === 'document' && item.filename) parts.push(item.filename);
  const status = item.status === 'ready' ? '' : `, ${item.status}`;
  return `[${parts.join(' ')}${status}]`;
}

/** `👍 2, ❤️ 1`, or '' without reactions. */
export function reactionsText(reactions: Message['reactions']): string {
  return reactions.map((r) => `${r.emoji} ${r.count}`).join(', ');
}

/** A message's attachments, text, edit mark and reactions, on one line. */
export function messageText(m: Message): string {
  if (m.deleted) return m.removed ? '(removed by moderators)' : '(deleted)';
  const parts = m.media.map(mediaText);
  if (m.text) parts.push(m.text);
  const interactive = interactiveText(m);
  if (interactive) parts.push(interactive);
  else if (parts.length === 0) parts.push(m.forward ? '(forwarded message)' : '(no text)');
  if (m.edited_at !== null) parts.push('(edited)');
  if (m.status === 'failed') parts.push('(not delivered)');
  const reactions = reactionsText(m.reactions);
  if (reactions) parts.push(`(${reactions})`);
  return parts.join(' ');
}

/** A one-line summary of a message's interactive content, or '' (see `mmd poll results` for a poll). */
export function interactiveText(m: Message): string {
  const parts: string[] = [];
  if (m.poll) parts.push(`[${m.poll.quiz ? 'quiz' : 'poll'}${m.poll.closed ? ', closed' : ''}] ${m.poll.question} — ${m.poll.options.map((o) => `${o.text} (${o.votes})`).join(' / ')}`);
  if (m.form) parts.push(`[form${m.form.closed ? ', closed' : ''}] ${m.form.title} (${m.form.questions.length} questions, ${m.form.submissions} submitted)`);
  if (m.list) parts.push(`[list: ${m.list.button}] ${m.list.sections.flatMap((s) => s.rows.map((r) => r.title)).join(' / ')}`);
  if (m.cards) parts.push(`[${m.cards.length > 1 ? 'carousel' : 'card'}] ${m.cards.map((c) => c.title).join(' / ')}`);
  if (m.buttons) parts.push(m.buttons.map((row) => row.map((b) => `[${b.text}]`).join(' ')).join(' | '));
  if (m.quick_replies) parts.push(m.quick_replies.remove ? '(keyboard removed)' : `(replies: ${m.quick_replies.rows.flat().map((r) => r.text).join(', ')})`);
  return parts.join(' ');
}

/**
 * `[time] @sender: text`, the one-line form used by history and tail; `where` names the chat
 * when lines from several are mixed: `[time] @news | @sender: text`.
 */
export function messageLine(m: Message, options: { at?: number; where?: string } = {}): string {
  const where = options.where ? `${options.where} | ` : '';
  return `[${formatTime(options.at ?? m.created_at)}] ${where}@${m.sender_handle}: ${messageText(m)}`;
}

/** A short name for a conversation: @channel, @peer for a direct chat, else its title. */
export function conversationLabel(
  c: Pick<Conversation, 'id' | 'kind' | 'title' | 'handle' | 'peer'>,
): string {
  if (c.kind === 'channel' && c.handle) return `@${c.handle}`;
  if (c.kind === 'direct' && c.peer) return `@${c.peer.handle}`;
  return c.title ?? c.id;
}
