/**
 * Which quick-reply keyboard applies in a chat: the newest one someone else sent, until a later one
 * replaces or removes it; a one-time keyboard goes once I have answered.
 */
import type { Message } from '@mmd/sdk';
import { parts, type QuickRepliesView } from './types.ts';

export type Keyboard = { message: Message; rows: { text: string }[][]; persistent: boolean; placeholder: string | null };

/** The keyboard that applies now, if any. `pendingSince`: when my newest unsent message was written (it answers too). */
export function activeKeyboard(messages: Message[], meId: string, pendingSince: number | null): Keyboard | null {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.sender_id === meId || m.deleted) continue;
    const qr: QuickRepliesView | null | undefined = parts(m).quick_replies;
    if (!qr) continue;
    if (qr.remove) return null;
    if (qr.one_time) {
      const answered = messages.slice(i + 1).some((x) => x.sender_id === meId) || (pendingSince !== null && pendingSince >= m.created_at);
      if (answered) return null;
    }
    return { message: m, rows: qr.rows, persistent: qr.persistent, placeholder: qr.placeholder ?? null };
  }
  return null;
}
