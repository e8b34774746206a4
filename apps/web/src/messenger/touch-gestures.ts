/**
 * A message's touch gestures, as phone messengers have them: press and hold opens its actions,
 * a swipe to the right replies. Pointer events with pointerType "touch" only, so a mouse keeps
 * selecting text and the "⋯" button stays the way for mouse and keyboard. The row must have
 * `touch-action: pan-y` (messenger.css) so the browser scrolls vertically and leaves sideways
 * moves to us.
 */
import { type MouseEvent as ReactMouseEvent, type PointerEvent as ReactPointerEvent, useEffect, useRef } from 'react';

/** Held this long without moving: a long press. */
export const LONG_PRESS_MS = 450;
/** A finger that moves further than this is scrolling or swiping, not pressing. */
const SLOP_PX = 10;
/** Dragged this far to the right (and more sideways than down): let go to reply. */
export const SWIPE_REPLY_PX = 64;
/** The row follows the finger up to this far. */
const MAX_DRAG_PX = 96;

export interface TouchGestureOptions {
  onLongPress?: () => void;
  /** Leave out when the message cannot be replied to (no swipe then). */
  onSwipeReply?: () => void;
}

interface Track {
  id: number;
  x: number;
  y: number;
  dx: number;
  /** null until the finger shows which way it goes. */
  axis: 'x' | 'y' | null;
  timer: ReturnType<typeof setTimeout> | null;
  pressed: boolean;
}

export function useTouchGestures(options: TouchGestureOptions) {
  const latest = useRef(options);
  latest.current = options;
  const track = useRef<Track | null>(null);
  // After a long press the finger's release must not also click what it was on (a link, a photo).
  const swallowClick = useRef(false);

  useEffect(
    () => () => {
      if (track.current?.timer) clearTimeout(track.current.timer);
    },
    [],
  );

  const settle = (row: HTMLElement) => {
    row.style.removeProperty('--swipe');
    row.classList.remove('touching', 'swiping', 'swipe-armed');
  };

  const end = (event: ReactPointerEvent<HTMLElement>, released: boolean) => {
    const t = track.current;
    if (!t || t.id !== event.pointerId) return;
    if (t.timer) clearTimeout(t.timer);
    track.current = null;
    settle(event.currentTarget);
    if (released && t.axis === 'x' && t.dx >= SWIPE_REPLY_PX) latest.current.onSwipeReply?.();
  };

  return {
    onPointerDown(event: ReactPointerEvent<HTMLElement>) {
      // A new touch (or click) starts afresh: only the click a long press's release makes is swallowed.
      swallowClick.current = false;
      if (event.pointerType !== 'touch' || !event.isPrimary) return;
      // Buttons (a bot's keyboard, reactions, a poll), fields, players and sliders keep their own
      // taps and drags, however slow; a held photo or link opens the actions (its click is
      // swallowed), as in phone messengers.
      if ((event.target as Element).closest('button:not(.media-hit), input, select, textarea, video, [role="slider"], .actions-anchor')) return;
      // No text selection while a finger is down: a long press is ours, not the browser's.
      event.currentTarget.classList.add('touching');
      const t: Track = { id: event.pointerId, x: event.clientX, y: event.clientY, dx: 0, axis: null, timer: null, pressed: false };
      if (latest.current.onLongPress) {
        t.timer = setTimeout(() => {
          t.timer = null;
          if (track.current !== t || t.axis !== null) return;
          t.pressed = true;
          swallowClick.current = true;
          navigator.vibrate?.(10);
          latest.current.onLongPress?.();
        }, LONG_PRESS_MS);
      }
      track.current = t;
    },
    onPointerMove(event: ReactPointerEvent<HTMLElement>) {
      const t = track.current;
      if (!t || t.id !== event.pointerId || t.pressed) return;
      const dx = event.clientX - t.x;
      const dy = event.clientY - t.y;
      if (t.axis === null && Math.hypot(dx, dy) > SLOP_PX) {
        if (t.timer) clearTimeout(t.timer);
        t.timer = null;
        // Sideways to the right (clearly more than down): a swipe; anything else is the page's scroll.
        t.axis = latest.current.onSwipeReply && dx > 0 && Math.abs(dx) > Math.abs(dy) * 1.5 ? 'x' : 'y';
      }
      if (t.axis !== 'x') return;
      t.dx = Math.max(0, dx);
      const row = event.currentTarget;
      row.classList.add('swiping');
      row.classList.toggle('swipe-armed', t.dx >= SWIPE_REPLY_PX);
      row.style.setProperty('--swipe', `${Math.min(t.dx, MAX_DRAG_PX)}px`);
    },
    onPointerUp(event: ReactPointerEvent<HTMLElement>) {
      end(event, true);
    },
    onPointerCancel(event: ReactPointerEvent<HTMLElement>) {
      end(event, false);
    },
    onClickCapture(event: ReactMouseEvent<HTMLElement>) {
      // The menu the press opened lives in the row: its items are never swallowed.
      if (!swallowClick.current || (event.target as Element).closest('.actions-anchor')) return;
      swallowClick.current = false;
      event.preventDefault();
      event.stopPropagation();
    },
    onContextMenu(event: ReactMouseEvent<HTMLElement>) {
      // The browser's own long-press menu (copy link, save image) would cover ours.
      if (track.current || swallowClick.current) event.preventDefault();
    },
  };
}
