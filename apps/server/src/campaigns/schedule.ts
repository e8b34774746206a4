/**
 * When a campaign sends: validation of a schedule (every refusal a clear error) and the moments
 * it names. A local-time schedule ("09:00 on 2026-12-24 wherever they are") is one instant per
 * time zone: the planner gives each recipient theirs, and planning starts at the earliest one
 * (UTC+14). A recurring schedule is a cron expression (croner) read in a time zone; each
 * occurrence is a run.
 */
import type { CampaignSchedule } from '@mmd/contracts';
import { Cron } from 'croner';
import { DateTime, IANAZone } from 'luxon';
import { AppError } from '../errors.ts';

/** The zones furthest ahead of and behind UTC: a wall-clock time happens between them. */
const EARLIEST_ZONE = 'Pacific/Kiritimati'; // UTC+14
const LATEST_ZONE = 'Etc/GMT+12'; // UTC−12

function invalid(path: string, message: string): AppError {
  return new AppError('validation_failed', message, { errors: [{ path, message }] });
}

/** The instant a wall-clock time (YYYY-MM-DDTHH:mm) happens in `zone`. */
export function localInstant(localTime: string, zone: string): number {
  const at = DateTime.fromISO(localTime, { zone });
  // A time skipped by a DST change (02:30 on a spring-forward night) moves forward, as luxon does.
  return at.toMillis();
}

function cronOf(expression: string, zone: string): Cron {
  try {
    return new Cron(expression, { timezone: zone, paused: true });
  } catch (err) {
    throw invalid('/schedule/cron', `not a cron expression: ${(err as Error).message}`);
  }
}

/** The next occurrence of a recurring schedule after `after`, or null when it never fires again. */
export function nextOccurrence(schedule: Extract<CampaignSchedule, { kind: 'recurring' }>, zone: string, after: number): number | null {
  const next = cronOf(schedule.cron, schedule.time_zone ?? zone).nextRun(new Date(after));
  return next ? next.getTime() : null;
}

/**
 * Checks a schedule at `now` and returns when its first run starts planning. Refuses a time in
 * the past (for local time: past in any zone), a cron expression that is malformed or never
 * fires, an unknown time zone and a wall-clock time that does not exist.
 */
export function firstRunAt(schedule: CampaignSchedule, options: { now: number; defaultZone: string }): number {
  const { now } = options;
  switch (schedule.kind) {
    case 'now':
      return now;
    case 'at': {
      const at = Date.parse(schedule.at);
      if (!Number.isFinite(at)) throw invalid('/schedule/at', `not a date-time: "${schedule.at}"`);
      if (at < now) throw new AppError('schedule_in_past', `the schedule ${schedule.at} is in the past`, { errors: [{ path: '/schedule/at', message: 'in the past' }] });
      return at;
    }
    case 'local': {
      const earliest = DateTime.fromISO(schedule.local_time, { zone: EARLIEST_ZONE });
      if (!earliest.isValid) throw invalid('/schedule/local_time', `not a wall-clock time: "${schedule.local_time}"`);
      if (earliest.toMillis() < now) {
        const passed = DateTime.fromISO(schedule.local_time, { zone: LATEST_ZONE }).toMillis() < now ? 'everywhere' : 'in the time zones furthest ahead (UTC+14)';
        throw new AppError('schedule_in_past', `${schedule.local_time} local time has already passed ${passed}; choose a later time so everyone gets it at that hour`, {
          errors: [{ path: '/schedule/local_time', message: 'in the past in some time zone' }],
        });
      }
      return earliest.toMillis();
    }
    case 'recurring': {
      const zone = schedule.time_zone ?? options.defaultZone;
      if (!IANAZone.isValidZone(zone)) throw invalid('/schedule/time_zone', `unknown IANA time zone "${zone}"`);
      const next = nextOccurrence(schedule, zone, now);
      if (next === null) {
        throw new AppError('schedule_never_fires', `the cron expression "${schedule.cron}" never fires after now`, { errors: [{ path: '/schedule/cron', message: 'never fires' }] });
      }
      return next;
    }
    default: {
      const never: never = schedule;
      throw invalid('/schedule', `unknown schedule ${JSON.stringify(never)}`);
    }
  }
}
