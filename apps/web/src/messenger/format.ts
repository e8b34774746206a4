/** How conversations, times and message previews read to a person. */
import { type Conversation, type Message, parseRichText, richTextToPlain } from '@mmd/sdk';

export function conversationTitle(c: Conversation): string {
  if (c.kind === 'direct') return c.peer ? `@${c.peer.handle}` : 'Direct chat';
  return c.title ?? (c.handle ? `@${c.handle}` : c.kind === 'channel' ? 'Channel' : 'Group');
}

export function conversationSubtitle(c: Conversation): string {
  if (c.kind === 'direct') return 'Direct chat';
  const people = `${c.member_count.toLocaleString()} ${c.kind === 'channel' ? (c.member_count === 1 ? 'subscriber' : 'subscribers') : c.member_count === 1 ? 'member' : 'members'}`;
  return c.kind === 'channel' ? `Channel${c.handle ? ` @${c.handle}` : ''} · ${people}` : `Group · ${people}`;
}

/** The letters on a conversation's avatar. */
export function initials(title: string): string {
  const words = title.replace(/^@/, '').split(/[\s_.-]+/).filter(Boolean);
  return ((words[0]?.[0] ?? '?') + (words[1]?.[0] ?? '')).toUpperCase();
}

/** A stable hue per name, so the same person keeps the same colour. */
export function hue(name: string): number {
  let h = 0;
  for (const ch of name) h = (h * 31 + (ch.codePointAt(0) ?? 0)) % 360;
  return h;
}

const MEDIA_WORDS: Record<string, string> = { image: 'Photo', video: 'Video', audio: 'Voice note', document: 'Document' };

export function mediaLabel(m: Message): string | null {
  if (m.media.length === 0) return null;
  if (m.media.length > 1) return `Album (${m.media.length})`;
  const kind = m.media[0]?.kind;
  return kind ? (MEDIA_WORDS[kind] ?? 'Attachment') : 'Attachment';
}

export function messagePreview(m: Message | null | undefined): string {
  if (!m) return 'No messages yet';
  if (m.deleted) return m.removed ? 'Removed by moderators' : 'Message deleted';
  const media = mediaLabel(m);
  // Without markers, and a spoiler hidden: the list and notifications must not give it away.
  const text = m.text ? richTextToPlain(parseRichText(m.text)).replace(/\s+/g, ' ').trim() : undefined;
  const body = media && text ? `${media}: ${text}` : text || media || interactivePreview(m) || (m.forward ? 'Forwarded message' : '');
  // A refused or blocked upload was never delivered: the list must not read as if it were.
  if (m.status === 'failed') return body ? `Not delivered · ${body}` : 'Not delivered';
  return body;
}

/** A message with no text reads as what it offers: a poll's question, a form's or card's title. */
function interactivePreview(m: Message): string | null {
  const p = m as unknown as { poll?: { question: string } | null; form?: { title: string } | null; cards?: { title: string }[] | null };
  if (p.poll) return `📊 ${p.poll.question}`;
  if (p.form) return `📝 ${p.form.title}`;
  if (p.cards?.[0]) return p.cards.length > 1 ? `🗂 ${p.cards[0].title} (+${p.cards.length - 1})` : `🗂 ${p.cards[0].title}`;
  return null;
}

const timeFormat = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const dayFormat = new Intl.DateTimeFormat(undefined, { weekday: 'short' });
const dateFormat = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' });
const fullFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short' });

export function clock(ms: number): string {
  return timeFormat.format(ms);
}

export function fullDate(ms: number): string {
  return fullFormat.format(ms);
}

/** Today: the time; this week: the day; older: the date. */
export function listTime(ms: number, now = Date.now()): string {
  const then = new Date(ms);
  const today = new Date(now);
  if (then.toDateString() === today.toDateString()) return timeFormat.format(then);
  if (now - ms < 6 * 86_400_000) return dayFormat.format(then);
  return dateFormat.format(then);
}

export function dayHeading(ms: number, now = Date.now()): string {
  const then = new Date(ms);
  const today = new Date(now);
  const yesterday = new Date(now - 86_400_000);
  if (then.toDateString() === today.toDateString()) return 'Today';
  if (then.toDateString() === yesterday.toDateString()) return 'Yesterday';
  return new Intl.DateTimeFormat(undefined, { weekday: 'long', day: 'numeric', month: 'long' }).format(then);
}

/** "@ana is typing…", "@ana and @ben are typing…", "3 people are typing…". */
export function typingText(handles: string[]): string {
  if (handles.length === 1) return `@${handles[0]} is typing…`;
  if (handles.length === 2) return `@${handles[0]} and @${handles[1]} are typing…`;
  return `${handles.length} people are typing…`;
}
