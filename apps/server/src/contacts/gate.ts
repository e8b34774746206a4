/**
 * The consent gate's decision, as a pure function of the facts service.ts reads in one snapshot:
 * the contact, its suppression, its current consent for the purpose, the business's quiet hours
 * and frequency cap, and the sends already recorded. Kept pure so the property test can drive it
 * through the database and compare with its own model.
 *
 * Order of refusals: erased, suppressed, no consent (each final until something changes), then
 * quiet hours and the frequency cap (both temporary, with `retryAt`: messages wait, they are not
 * dropped). Transactional messages need only a contact that is not erased.
 */
import { DateTime } from 'luxon';

export type GateReason = 'not_a_contact' | 'erased' | 'suppressed' | 'no_consent' | 'quiet_hours' | 'frequency_cap';
export type GateVerdict = { ok: true } | { ok: false; reason: GateReason; retryAt?: number; detail: string };

export interface GateFacts {
  purpose: string;
  at: number;
  contact: { erased: boolean; timeZone: string | null } | null;
  suppressed: boolean;
  consent: 'opted_in' | 'opted_out' | null;
  quietHours: { start: string; end: string } | null;
  defaultTimeZone: string;
  cap: { max: number; days: number } | null;
  /** Times of the sends recorded for this contact and purpose (any order). */
  sends: readonly number[];
}

const DAY_MS = 24 * 60 * 60 * 1000;

function minutes(clock: string): number {
  const [h, m] = clock.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/**
 * When `at` falls within quiet hours in `zone`, the instant they end (the next local `end`);
 * otherwise null. A range whose start is after its end wraps midnight (21:00–08:00).
 */
export function quietHoursEnd(at: number, zone: string, quiet: { start: string; end: string } | null): number | null {
  if (!quiet) return null;
  const start = minutes(quiet.start);
  const end = minutes(quiet.end);
  if (start === end) return null;
  const local = DateTime.fromMillis(at, { zone });
  const now = local.hour * 60 + local.minute;
  const inside = start < end ? now >= start && now < end : now >= start || now < end;
  if (!inside) return null;
  let candidate = local.set({ hour: Math.floor(end / 60) % 24, minute: end % 60, second: 0, millisecond: 0 });
  if (end === 24 * 60) candidate = local.startOf('day').plus({ days: 1 });
  // Today's end is behind us (the evening half of a wrapping range): tomorrow's.
  if (candidate.toMillis() <= at) candidate = candidate.plus({ days: 1 });
  return candidate.toMillis();
}

export function decide(f: GateFacts): GateVerdict {
  if (!f.contact) return { ok: false, reason: 'not_a_contact', detail: 'this account is not a contact of the business' };
  if (f.contact.erased) return { ok: false, reason: 'erased', detail: 'the contact was erased on request; nothing may be sent' };
  if (f.purpose === 'transactional') return { ok: true };
  if (f.suppressed) return { ok: false, reason: 'suppressed', detail: 'the account is on the business suppression list' };
  if (f.consent !== 'opted_in') return { ok: false, reason: 'no_consent', detail: `no current consent for ${f.purpose}` };
  const zone = f.contact.timeZone ?? f.defaultTimeZone;
  const quietEnd = quietHoursEnd(f.at, zone, f.quietHours);
  if (quietEnd !== null) return { ok: false, reason: 'quiet_hours', retryAt: quietEnd, detail: `quiet hours in ${zone} until ${new Date(quietEnd).toISOString()}` };
  if (f.cap && f.cap.max >= 0) {
    const windowMs = f.cap.days * DAY_MS;
    const inWindow = f.sends.filter((t) => t > f.at - windowMs && t <= f.at).sort((a, b) => a - b);
    if (inWindow.length >= f.cap.max) {
      // The cap frees a slot when the oldest send that keeps it full leaves the window.
      const freeing = inWindow[inWindow.length - f.cap.max];
      return {
        ok: false,
        reason: 'frequency_cap',
        ...(freeing !== undefined ? { retryAt: freeing + windowMs } : {}),
        detail: `at most ${f.cap.max} ${f.purpose} messages in ${f.cap.days} days`,
      };
    }
  }
  return { ok: true };
}
