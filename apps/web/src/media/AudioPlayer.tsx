/**
 * The voice-note player: play/pause, the waveform as bars (the played part highlighted) that is
 * also the seek slider — click, drag or use the arrow keys — elapsed/total time and a speed toggle.
 */
import type { MediaItem } from '@mmd/sdk';
import { type KeyboardEvent, type PointerEvent, useEffect, useRef, useState } from 'react';
import { formatDuration, spokenDuration } from './format.ts';
import { canPlayOpus, claimPlayback, useStableUrl } from './playback.ts';

const SPEEDS = [1, 1.5, 2];
/** Bar geometry in SVG units: 64 bars of 2 with gaps of 1.5. */
const BAR = 2;
const GAP = 1.5;
const HEIGHT = 28;
/** When no waveform came with the item: a flat line of this many bars. */
const FALLBACK_BARS = 48;

export function AudioPlayer({ item, label, onUrlFailed }: { item: MediaItem; label: string; onUrlFailed?: () => void }) {
  const audio = useRef<HTMLAudioElement>(null);
  const [playing, setPlaying] = useState(false);
  const [position, setPosition] = useState(0);
  const [duration, setDuration] = useState(item.duration ?? 0);
  const [speed, setSpeed] = useState(1);
  const [failed, setFailed] = useState(false);
  const rendition = canPlayOpus() ? (item.renditions.opus ?? item.renditions.aac) : (item.renditions.aac ?? item.renditions.opus);
  const { src, failed: urlFailed } = useStableUrl(rendition?.url, onUrlFailed ?? (() => {}));

  // Smooth progress while playing (timeupdate fires only ~4 times a second).
  useEffect(() => {
    if (!playing) return;
    let frame = 0;
    const tick = () => {
      if (audio.current) setPosition(audio.current.currentTime);
      frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [playing]);

  const total = duration > 0 ? duration : (item.duration ?? 0);
  const fraction = total > 0 ? Math.min(1, position / total) : 0;

  function seek(seconds: number) {
    const to = Math.max(0, Math.min(total || 0, seconds));
    setPosition(to);
    // Before metadata has loaded this sets the start position, which the spec keeps until it has.
    if (audio.current) audio.current.currentTime = to;
  }

  function toggle() {
    const el = audio.current;
    if (!el) return;
    if (el.paused) {
      setFailed(false);
      el.play().catch(() => setPlaying(false));
    } else el.pause();
  }

  function onKeyDown(event: KeyboardEvent) {
    const step = Math.max(1, total / 20);
    const keys: Record<string, number> = {
      ArrowLeft: position - step,
      ArrowDown: position - step,
      ArrowRight: position + step,
      ArrowUp: position + step,
      PageDown: position - total / 5,
      PageUp: position + total / 5,
      Home: 0,
      End: total,
    };
    const to = keys[event.key];
    if (to === undefined) return;
    event.preventDefault();
    seek(to);
  }

  function fromPointer(event: PointerEvent<HTMLDivElement>) {
    const box = event.currentTarget.getBoundingClientRect();
    seek(((event.clientX - box.left) / box.width) * total);
  }

  const peaks = item.waveform && item.waveform.length > 0 ? item.waveform : new Array<number>(FALLBACK_BARS).fill(0.15);
  const width = peaks.length * (BAR + GAP) - GAP;
  const playedBars = Math.round(fraction * peaks.length);

  return (
    <div className={`media-audio${playing ? ' playing' : ''}`}>
      <button type="button" className="media-audio-toggle" onClick={toggle} aria-label={`${playing ? 'Pause' : 'Play'} ${label}`} disabled={!src}>
        {playing ? (
          <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <rect x="6" y="5" width="4" height="14" rx="1" />
            <rect x="14" y="5" width="4" height="14" rx="1" />
          </svg>
        ) : (
          <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <path d="M8 5.5v13a1 1 0 0 0 1.5.86l10.5-6.5a1 1 0 0 0 0-1.72L9.5 4.64A1 1 0 0 0 8 5.5z" />
          </svg>
        )}
      </button>
      <div className="media-audio-body">
        <div
          className="media-waveform"
          role="slider"
          tabIndex={0}
          aria-label={`Position in ${label}`}
          aria-valuemin={0}
          aria-valuemax={Math.round(total)}
          aria-valuenow={Math.round(position)}
          aria-valuetext={`${spokenDuration(position)} of ${spokenDuration(total)}`}
          onKeyDown={onKeyDown}
          onPointerDown={(event) => {
            event.currentTarget.setPointerCapture(event.pointerId);
            fromPointer(event);
          }}
          onPointerMove={(event) => {
            if (event.currentTarget.hasPointerCapture(event.pointerId)) fromPointer(event);
          }}
        >
          <svg viewBox={`0 0 ${width} ${HEIGHT}`} preserveAspectRatio="none" aria-hidden="true" focusable="false">
            {peaks.map((peak, i) => {
              const h = Math.max(2, Math.min(1, peak) * HEIGHT);
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: bars are positional and never reorder
                <rect key={i} className={i < playedBars ? 'played' : undefined} x={i * (BAR + GAP)} y={(HEIGHT - h) / 2} width={BAR} height={h} rx={1} />
              );
            })}
          </svg>
        </div>
        <div className="media-audio-meta">
          <span className="media-audio-time">
            {playing || position > 0 ? `${formatDuration(position)} / ${formatDuration(Math.round(total))}` : formatDuration(Math.round(total))}
          </span>
          {failed && <span className="error">Could not play</span>}
          <button
            type="button"
            className="media-audio-speed"
            aria-label={`Playback speed ${speed} times`}
            onClick={() => {
              const next = SPEEDS[(SPEEDS.indexOf(speed) + 1) % SPEEDS.length] ?? 1;
              setSpeed(next);
              if (audio.current) audio.current.playbackRate = next;
            }}
          >
            {speed}×
          </button>
        </div>
      </div>
      {/* biome-ignore lint/a11y/useMediaCaption: a voice note has no caption track; the player above is its interface */}
      <audio
        ref={audio}
        src={src}
        preload="none"
        onPlay={(event) => {
          claimPlayback(event.currentTarget);
          event.currentTarget.playbackRate = speed;
          setPlaying(true);
        }}
        onPause={() => setPlaying(false)}
        onEnded={() => {
          setPlaying(false);
          setPosition(0);
          if (audio.current) audio.current.currentTime = 0;
        }}
        onTimeUpdate={(event) => setPosition(event.currentTarget.currentTime)}
        onLoadedMetadata={(event) => {
          const d = event.currentTarget.duration;
          if (Number.isFinite(d) && d > 0) setDuration(d);
        }}
        onError={() => {
          setPlaying(false);
          // Most likely an expired signed URL: a fresh one is fetched once; after that, say so.
          if (!onUrlFailed || !urlFailed()) setFailed(true);
        }}
      />
    </div>
  );
}
