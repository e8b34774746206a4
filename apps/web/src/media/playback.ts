/** Playback helpers shared by the audio and video players. */
import { useEffect, useState } from 'react';

let current: HTMLMediaElement | null = null;

/**
 * One voice note or video at a time, as in every messenger: starting one pauses the one playing.
 * Call from the element's `play` event.
 */
export function claimPlayback(element: HTMLMediaElement): void {
  if (current && current !== element && !current.paused) current.pause();
  current = element;
}

let opus: boolean | undefined;

/** Whether this browser plays Opus in Ogg (Chrome, Firefox, Edge, recent Safari); else use AAC. */
export function canPlayOpus(): boolean {
  opus ??= typeof document !== 'undefined' && document.createElement('audio').canPlayType('audio/ogg; codecs="opus"') !== '';
  return opus;
}

/**
 * A rendition URL that stays put once used: signed URLs are renewed before they expire, and a new
 * URL for the same bytes must not reload an image or restart a player. When loading fails (most
 * likely the URL expired while the tab slept), `failed()` asks for a fresh item once and switches to
 * its URL; it returns false when that was already tried, and the caller should show an error.
 */
export function useStableUrl(url: string | undefined, refresh: () => void): { src: string | undefined; failed(): boolean } {
  const [state, setState] = useState<{ src: string | undefined; bad: string | undefined; retriedAt: number }>({ src: url, bad: undefined, retriedAt: 0 });
  useEffect(() => {
    setState((s) => (url && url !== s.bad && (s.src === undefined || s.src === s.bad) ? { ...s, src: url } : s));
  }, [url]);
  const failed = () => {
    // One fresh URL per minute: a tab open for hours renews each time its links expire, while an
    // item that is really gone does not loop.
    if (Date.now() - state.retriedAt < 60_000) return false;
    setState((s) => ({ src: undefined, bad: s.src, retriedAt: Date.now() }));
    refresh();
    return true;
  };
  return { src: state.src, failed };
}
