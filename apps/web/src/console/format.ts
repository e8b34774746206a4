/** Words and numbers the console shows: labels for the API's codes, times, durations, counts. */
import type { AuditAction, BankAction, BankCategory, ReportReason, TakedownStage } from '@mmd/sdk';

export const CATEGORY_LABELS: Record<BankCategory, string> = {
  ncii: 'Intimate images (NCII)',
  ai_ncii: 'AI-generated intimate imagery',
  child_safety: 'Child safety',
  deepfake: 'Deepfake',
  terrorism: 'Terrorism',
  spam: 'Spam',
  other: 'Other',
};

export const BANK_ACTION_LABELS: Record<BankAction, string> = {
  block: 'Block',
  hold: 'Hold for review',
  blur: 'Blur',
};

export const BANK_ACTION_HINTS: Record<BankAction, string> = {
  block: 'Matching uploads are refused, and existing copies removed.',
  hold: 'Matching uploads wait for a moderator; existing copies are queued for review.',
  blur: 'Matching uploads are delivered behind a warning.',
};

export const REASON_LABELS: Record<ReportReason, string> = {
  ncii: 'Intimate image without consent',
  child_safety: 'Child safety',
  deepfake: 'Deepfake',
  harassment: 'Harassment',
  spam: 'Spam',
  other: 'Other',
};

export const AUDIT_ACTION_LABELS: Record<AuditAction, string> = {
  'bank.created': 'Bank created',
  'bank.updated': 'Bank changed',
  'signals.added': 'Signals added',
  'signals.removed': 'Signal removed',
  'bank.imported': 'Bank imported',
  'bank.exported': 'Bank exported',
  'upload.blocked': 'Upload blocked',
  'upload.held': 'Upload held',
  'upload.blurred': 'Upload blurred',
  'match.checked': 'File checked',
  'report.created': 'Report',
  'review.decided': 'Review decided',
  'hold.released': 'Hold released',
  'media.revealed': 'Media revealed',
  takedown: 'Takedown',
  'takedown.failed': 'Takedown failed',
  'sweep.completed': 'Sweep completed',
  'protect.submitted': 'Protection request',
  'case.confirmed': 'Protection case confirmed',
  'case.rejected': 'Protection case rejected',
  'protect.shared': 'Protection case shared with platforms',
  'protect.withdrawn': 'Protection case withdrawn',
  'erasure.requested': 'Removal request',
  'erasure.removed': 'Removal request: copies removed',
  'erasure.declined': 'Removal request declined',
  'spread.alert': 'Spreading fast: held for review',
  'spread.decided': 'Spreading cluster decided',
  'spread.restricted': 'Account sharing restricted',
  'federation.peer': 'Peer platform connected or changed',
  'federation.shared': 'Shared with peer platforms',
  'federation.retracted': 'Shared case withdrawn',
  'federation.received': 'Signals from a peer platform',
  'federation.refused': 'Peer message refused',
  'federation.identity': 'Federation key rotated',
  'federation.hma_consumer': 'HMA access issued or changed',
};

export const STAGE_LABELS: Record<TakedownStage, string> = {
  banking: 'Banking the hashes',
  finding: 'Finding copies',
  removing: 'Removing copies',
  closing: 'Closing reviews',
  finished: 'Finished',
};

const KIND_LABELS: Record<string, string> = { direct: 'Direct chat', group: 'Group', channel: 'Channel' };
export const conversationKindLabel = (kind: string) => KIND_LABELS[kind] ?? kind;

/** "1 copy", "3 copies". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString()} ${n === 1 ? one : many}`;
}

const absolute = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function formatTime(ms: number): string {
  return absolute.format(ms);
}

/** "just now", "4 minutes ago", "3 hours ago"; older than a day: the date and time. */
export function formatAgo(ms: number, now = Date.now()): string {
  const seconds = Math.round((ms - now) / 1000);
  if (Math.abs(seconds) < 45) return 'just now';
  const minutes = Math.round(seconds / 60);
  if (Math.abs(minutes) < 60) return relative.format(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (Math.abs(hours) < 24) return relative.format(hours, 'hour');
  return absolute.format(ms);
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** A value for <input type="datetime-local"> as epoch milliseconds (local time), or undefined. */
export function fromLocalInput(value: string): number | undefined {
  if (!value) return undefined;
  const ms = new Date(value).getTime();
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * Audit detail keys as a person reads them. A takedown's `hashes` counts the hashes pasted into the
 * request (0 for a takedown by message or media), not those it added to the bank: read bare, "hashes:
 * 0" contradicted a takedown that banked three.
 */
const DETAIL_LABELS: Record<string, string> = {
  hashes: 'hashes pasted',
  signals_added: 'hashes added to the bank',
  copies_found: 'copies found',
  media_removed: 'media removed',
  messages_removed: 'messages removed',
};
/** Shown first when present: what was done, and how much. */
const DETAIL_FIRST = ['reason', 'signals_added', 'media_removed', 'messages_removed', 'copies_found'];

/** The first few facts of an audit entry's detail, in one line ("reason: … · hashes added to the bank: 3"). */
export function auditSummary(detail: Record<string, unknown>, max = 4): string {
  const simple = Object.entries(detail).filter(([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v));
  const rank = (key: string) => {
    const at = DETAIL_FIRST.indexOf(key);
    return at === -1 ? DETAIL_FIRST.length : at;
  };
  return simple
    .map((entry, i) => ({ entry, i }))
    .sort((a, b) => rank(a.entry[0]) - rank(b.entry[0]) || a.i - b.i)
    .slice(0, max)
    .map(({ entry: [k, v] }) => `${DETAIL_LABELS[k] ?? k.replace(/_/g, ' ')}: ${String(v)}`)
    .join(' · ');
}
