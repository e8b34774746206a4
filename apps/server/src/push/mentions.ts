/**
 * Who a message mentions, for breaking through a mute. Messaging's mentions (a parallel change)
 * put `mentions: [{ account_id, handle }]` on the message; until then no message has any, and
 * this answers an empty list. Capped: a message mentioning everyone in a channel is no reason to
 * carry thousands of ids in a job.
 */
const MAX_MENTIONS = 100;

export function mentionedAccountIds(message: object): string[] {
  const mentions = (message as { mentions?: unknown }).mentions;
  if (!Array.isArray(mentions)) return [];
  const ids = new Set<string>();
  for (const m of mentions) {
    const id = (m as { account_id?: unknown } | null)?.account_id;
    if (typeof id === 'string' && id.length > 0) ids.add(id);
    if (ids.size >= MAX_MENTIONS) break;
  }
  return [...ids];
}
