/**
 * Plays a processed video with the browser's own controls: HLS (adaptive, fMP4) where the browser
 * plays it natively (Safari, iOS), else through hls.js — loaded on demand, its own chunk — and the
 * MP4 rendition when neither works (no MSE, or the stream fails).
 */
import type { MediaItem } from '@mmd/sdk';
import { useEffect, useRef, useState } from 'react';
import { claimPlayback } from './playback.ts';

/** The signed part of a media URL (`/v1/files/{id}/{viewer}/{expires}/{signature}/`), or null. */
function signedPrefix(url: string | undefined): string | null {
  return (url && /\/v1\/files\/[^/]+\/[^/]+\/\d+\/[^/]+\//.exec(url)?.[0]) || null;
}

export function VideoPlayer({ item, label, autoPlay = false, onUrlFailed }: { item: MediaItem; label: string; autoPlay?: boolean; onUrlFailed?: () => void }) {
  const ref = useRef<HTMLVideoElement>(null);
  const [failed, setFailed] = useState(false);
  // The URLs the player started with: a renewed item must not restart playback.
  const [urls] = useState(() => ({ hls: item.renditions.hls?.url, mp4: item.renditions.mp4?.url, poster: item.renditions.poster?.url }));
  const onFailed = useRef(onUrlFailed);
  onFailed.current = onUrlFailed;
  // Signed links live minutes and the item is renewed meanwhile: later playlist and segment
  // requests use the newest signature, so a long video keeps playing past its first link.
  const latest = useRef(item);
  latest.current = item;
  const fresh = (url: string) => {
    const started = signedPrefix(urls.hls ?? urls.mp4);
    const now = signedPrefix(latest.current.renditions.hls?.url ?? latest.current.renditions.mp4?.url);
    return started && now ? url.replace(started, now) : url;
  };
  const freshRef = useRef(fresh);
  freshRef.current = fresh;

  useEffect(() => {
    const video = ref.current;
    if (!video) return;
    let cancelled = false;
    let hls: { destroy(): void } | null = null;
    let usedMp4 = false;
    const play = () => {
      if (autoPlay) video.play().catch(() => {}); // a refused autoplay leaves the controls to the person
    };
    const fallBackToMp4 = () => {
      if (cancelled) return;
      hls?.destroy();
      hls = null;
      if (!urls.mp4 || usedMp4) {
        setFailed(true);
        onFailed.current?.();
        return;
      }
      usedMp4 = true;
      video.src = freshRef.current(urls.mp4);
      play();
    };
    const onNativeError = () => fallBackToMp4();
    if (!urls.hls) fallBackToMp4();
    else if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.addEventListener('error', onNativeError, { once: true });
      video.src = urls.hls;
      play();
    } else {
      import('hls.js')
        .then(({ default: Hls }) => {
          if (cancelled) return;
          if (!Hls.isSupported()) return fallBackToMp4();
          const player = new Hls({
            capLevelToPlayerSize: true,
            xhrSetup: (xhr, url) => xhr.open('GET', freshRef.current(url), true),
          });
          hls = player;
          player.on(Hls.Events.ERROR, (_event, data) => {
            if (data.fatal) fallBackToMp4();
          });
          player.on(Hls.Events.MANIFEST_PARSED, play);
          player.loadSource(urls.hls!);
          player.attachMedia(video);
        })
        .catch(fallBackToMp4);
    }
    return () => {
      cancelled = true;
      video.removeEventListener('error', onNativeError);
      hls?.destroy();
    };
  }, [urls, autoPlay]);

  return (
    <div className="media-video-player">
      {/* biome-ignore lint/a11y/useMediaCaption: user videos come without caption tracks */}
      <video ref={ref} controls playsInline preload="metadata" poster={urls.poster} aria-label={label} onPlay={(e) => claimPlayback(e.currentTarget)} />
      {failed && (
        <p className="media-overlay-note" role="alert">
          This video could not be played.
        </p>
      )}
    </div>
  );
}
