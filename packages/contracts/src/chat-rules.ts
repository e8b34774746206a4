/**
 * The rules of how a person keeps a chat, with no schema library: the web app imports them
 * (through the SDK) without pulling TypeBox into its bundle.
 */

/** At most this many chats pinned at the top of one person's list (WhatsApp's and Telegram's 5). */
export const MAX_PINNED_CHATS = 5;

/**
 * `muted_until` of a chat muted "always": the last millisecond of the year 9999, so one column
 * answers "is it muted now?" with a comparison.
 */
export const MUTED_FOREVER = 253_402_300_799_999;

/** How long a mute lasts: 8 hours, a week, always, or off (unmute). */
export const MUTE_CHOICES = ['8h', '1w', 'always', 'off'] as const;
export type MuteChoice = (typeof MUTE_CHOICES)[number];

/** The milliseconds each timed mute lasts. */
export const MUTE_DURATIONS_MS: Record<'8h' | '1w', number> = { '8h': 8 * 60 * 60 * 1000, '1w': 7 * 24 * 60 * 60 * 1000 };

/** Pinned messages per chat (WhatsApp's 3): a fourth is refused with `limit_reached` until one is unpinned. */
export const MAX_PINNED_MESSAGES = 3;

/** Is a chat with these settings muted at `now`? */
export function isMuted(settings: { muted_until: number | null } | undefined, now: number): boolean {
  return settings?.muted_until != null && settings.muted_until > now;
}
