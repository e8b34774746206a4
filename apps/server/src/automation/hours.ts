/**
 * Business hours in an IANA time zone. Local time comes from Intl (Node ships full ICU), which
 * applies the zone's rules for that instant, daylight saving included: 09:00 in Berlin is 08:00
 * UTC in winter and 07:00 UTC in summer, and the spring-forward hour that does not exist never
 * matches. No offset is ever cached or computed by hand.
 */
import type { BusinessHours, TimeRange } from '@mmd/contracts';

const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
type Weekday = (typeof WEEKDAYS)[number];

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: timezone, weekday: 'short', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    // A handful of zones per deployment; the cap only guards against a flood of distinct names.
    if (formatters.size < 1000) formatters.set(timezone, f);
  }
  return f;
}

/** True for a time zone name Intl knows (IANA names and their aliases, e.g. "UTC"). */
export function isValidTimeZone(timezone: string): boolean {
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]{0,63}$/.test(timezone)) return false;
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** The wall-clock time at `at` in `timezone`. */
export function localTime(at: number, timezone: string): { weekday: Weekday; minutes: number; date: string; time: string } {
  const parts = formatter(timezone).formatToParts(new Date(at));
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  const weekday = get('weekday').slice(0, 3).toLowerCase() as Weekday;
  const hour = Number(get('hour'));
  const minute = Number(get('minute'));
  return { weekday, minutes: hour * 60 + minute, date: `${get('year')}-${get('month')}-${get('day')}`, time: `${get('hour')}:${get('minute')}` };
}

function toMinutes(clock: string): number {
  const [h, m] = clock.split(':');
  return Number(h) * 60 + Number(m);
}

/** Whether the business is open at `at`; a range's start is inside, its end outside. */
export function isOpen(hours: BusinessHours, at: number): boolean {
  const { weekday, minutes } = localTime(at, hours.timezone);
  const ranges: TimeRange[] = hours.weekly[weekday] ?? [];
  return ranges.some((r) => minutes >= toMinutes(r.start) && minutes < toMinutes(r.end));
}

/** Problems with a weekly schedule (an unknown zone, a range that ends before it starts). */
export function hoursProblems(hours: BusinessHours): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  if (!isValidTimeZone(hours.timezone)) problems.push({ path: '/hours/timezone', message: `unknown time zone "${hours.timezone}" (use an IANA name such as Europe/Berlin)` });
  for (const day of WEEKDAYS) {
    (hours.weekly[day] ?? []).forEach((r, i) => {
      if (toMinutes(r.end) <= toMinutes(r.start)) problems.push({ path: `/hours/weekly/${day}/${i}`, message: 'end must be after start (split a range that crosses midnight into two days)' });
    });
  }
  return problems;
}
