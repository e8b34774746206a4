/**
 * What safety tells the capabilities that follow its decisions (federation): a takedown finished,
 * a sweep a caller tagged completed, a moderator decided a review. Listeners run after the
 * decision is committed; one that fails is logged and never undoes or delays the decision's answer
 * beyond its own run.
 */
import type { SignalType } from '@mmd/contracts';

/** A signal as it leaves safety: normalised value, MMD's robust set (pdq: JSON; vpdq: base64 signature). */
export interface SharedSignal {
  type: SignalType;
  value: string;
  quality?: number | null;
  robust?: string | null;
}

export interface TakedownFinished {
  takedownId: string;
  /** The bank its hashes went into, and what that bank (or the review's reason) is about. */
  bankId: string;
  category: string;
  signals: SharedSignal[];
  mediaRemoved: number;
  /** The bank of the review this takedown decided, if any (a peer's bank: a confirmation, not a new case). */
  reviewBankId: string | null;
  reviewSignalId: number | null;
  /** Kept to this instance (a person's removal request here): not shared with peers. */
  local: boolean;
}

export interface SweepCompleted {
  bankId: string;
  tag: string;
  totals: { signals: number; matched: number; removed: number; held: number; blurred: number };
}

export interface ReviewDecided {
  reviewId: string;
  bankId: string | null;
  signalId: number | null;
  outcome: 'takedown' | 'dismiss';
  mediaRemoved: number;
}

export interface SafetyListener {
  takedownFinished?(event: TakedownFinished): Promise<void>;
  sweepCompleted?(event: SweepCompleted): Promise<void>;
  reviewDecided?(event: ReviewDecided): Promise<void>;
}

type Events = { [K in keyof SafetyListener]-?: Parameters<NonNullable<SafetyListener[K]>>[0] };

export function createSafetyHooks(log: { error(o: object, m: string): void }) {
  const listeners: SafetyListener[] = [];
  return {
    listen(listener: SafetyListener) {
      listeners.push(listener);
    },
    async emit<K extends keyof Events>(name: K, event: Events[K]): Promise<void> {
      for (const l of listeners) {
        const fn = l[name] as ((e: Events[K]) => Promise<void>) | undefined;
        if (!fn) continue;
        try {
          await fn.call(l, event);
        } catch (err) {
          log.error({ err, hook: name }, 'a safety listener failed');
        }
      }
    },
  };
}

export type SafetyHooks = ReturnType<typeof createSafetyHooks>;
