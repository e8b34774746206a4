/**
 * One attached item in a message, by kind and status. Photos and videos reserve their box from the
 * width and height the message already carries, so nothing jumps: the tiny placeholder shows at once
 * and the preview fades in over it. Voice notes get a waveform player, documents a download row.
 * Items still processing, held, failed or removed say so; items matched by a blur bank stay blurred
 * behind a warning until the person chooses to view them.
 */
import type { MediaItem, MediaSummary } from '@mmd/sdk';
import { type CSSProperties, type ReactNode, useState, useSyncExternalStore } from 'react';
import { useSession } from '../session.tsx';
import { AudioPlayer } from './AudioPlayer.tsx';
import { describeImage, formatBytes, formatDuration, spokenDuration } from './format.ts';
import { type LocalPreview, lookupLocalPreview, onLocalPreviewChange } from './local-previews.ts';
import { useMediaItem } from './media-cache.ts';
import { MediaViewer } from './MediaViewer.tsx';
import { useStableUrl } from './playback.ts';
import { useRevealed } from './reveal.ts';
import { ProvenanceLabels } from './ProvenanceLabels.tsx';
import { VideoPlayer } from './VideoPlayer.tsx';
import './media.css';

export interface MediaViewProps {
  item: MediaSummary;
  /** Called instead of opening the built-in full-size viewer (photos; videos in album tiles). */
  onOpen?: () => void;
  /** Fill the parent box (an album tile) and crop to it, instead of sizing from width/height. */
  fill?: boolean;
}

type Shown = 'processing' | 'ready' | 'failed' | 'held' | 'removed' | 'unavailable';
type Kind = NonNullable<MediaSummary['kind']>;

/** Extreme panoramas and screenshots are cropped to these aspect ratios, as messengers do. */
const MIN_RATIO = 9 / 16;
const MAX_RATIO = 2.2;

export function MediaView({ item, onOpen, fill = false }: MediaViewProps) {
  const { client } = useSession();
  const local = useLocalPreview(item.id);
  // Removed items are gone (the API answers 404); held ones have nothing to show until released.
  const fetchable = item.status !== 'removed' && item.status !== 'held';
  const { item: full, error, invalidate } = useMediaItem(client, fetchable ? item.id : null, item.status);
  const [viewing, setViewing] = useState(false);
  const [revealed, reveal] = useRevealed(item.id);

  const shown = shownStatus(item, full, error?.status);
  const kind: Kind | null = full?.kind ?? item.kind ?? kindOfType(local?.type);
  const width = full?.width ?? item.width ?? local?.width;
  const height = full?.height ?? item.height ?? local?.height;
  const duration = full?.duration ?? item.duration;
  const placeholder = full?.placeholder ?? item.placeholder;
  const blurred = Boolean(item.blurred || full?.blurred) && !revealed;
  const visual = kind === 'image' || kind === 'video';
  const label = kind === 'video' ? (item.filename ?? 'Video') : kind === 'audio' ? 'voice note' : describeImage({ filename: item.filename, width, height });
  const open = onOpen ?? (() => setViewing(true));

  const box = (children: ReactNode, className = '') => (
    <div className={`media-box${fill ? ' fill' : ''}${className ? ` ${className}` : ''}`} style={fill ? undefined : boxStyle(width, height)}>
      {children}
    </div>
  );

  // Statuses with nothing to play or show.
  if (shown === 'removed' || shown === 'unavailable' || shown === 'failed' || shown === 'held') {
    const text = {
      removed: 'Removed',
      unavailable: 'No longer available',
      failed: 'Could not be processed',
      held: 'Held for review',
    }[shown];
    const reason = shown === 'failed' ? full?.reason : undefined;
    const note = (
      <div className={`media-note ${shown}`} role="note">
        <StatusIcon status={shown} />
        <span>
          {text}
          {reason && (
            <span className="media-note-reason" title={reason}>
              {reason}
            </span>
          )}
        </span>
      </div>
    );
    return visual ? box(note, 'status') : <div className="media-row status">{note}</div>;
  }

  if (shown === 'processing') {
    const spinner = (
      <div className="media-processing" role="status">
        <span className="media-spinner" aria-hidden="true" />
        Processing…
      </div>
    );
    if (!visual) return <div className="media-row status">{spinner}</div>;
    return box(
      <>
        {local && !item.blurred ? <LocalLayer preview={local} alt={label} /> : placeholder && <img className="media-placeholder" src={placeholder} alt="" aria-hidden="true" />}
        {spinner}
      </>,
      'processing',
    );
  }

  // Ready (its URLs may still be on their way: show what the summary allows meanwhile).
  if (!full && error) {
    const retry = (
      <div className="media-note" role="alert">
        <span>Could not load this.</span>
        <button type="button" className="media-retry" onClick={invalidate}>
          Retry
        </button>
      </div>
    );
    return visual ? box(retry, 'status') : <div className="media-row status">{retry}</div>;
  }

  if (blurred) {
    const gate = (
      <div className="media-gate">
        <svg className="media-gate-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path d="M3 3l18 18M10.6 5.1A10 10 0 0 1 12 5c5 0 9 4.5 10 7-.4 1-1.3 2.4-2.6 3.7M6.4 6.4C4.3 7.8 2.7 9.9 2 12c1 2.5 5 7 10 7 1.8 0 3.4-.5 4.8-1.3M9.9 9.9a3 3 0 0 0 4.2 4.2" />
        </svg>
        <p>This may contain sensitive content</p>
        <button type="button" className="media-gate-view" onClick={reveal} aria-label={`View ${kind === 'image' ? 'photo' : (kind ?? 'item')} that may contain sensitive content`}>
          View
        </button>
      </div>
    );
    if (!visual) return <div className="media-row gated">{gate}</div>;
    // Only the tiny placeholder, or the small poster/thumbnail, and always under a heavy blur.
    const hidden = placeholder ?? full?.renditions.poster?.url ?? full?.renditions.thumbnail?.url;
    return box(
      <>
        {hidden && <img className="media-blurred" src={hidden} alt="" aria-hidden="true" />}
        {gate}
      </>,
      'gated',
    );
  }

  const stand = full ?? standIn(item);
  let content: ReactNode;
  switch (kind) {
    case 'image':
      content = box(<ImageContent item={stand} placeholder={placeholder} local={local} alt={label} fill={fill} onOpen={open} onUrlFailed={invalidate} />, 'image');
      break;
    case 'video':
      content = box(<VideoContent item={stand} label={label} duration={duration} inline={!fill && !onOpen} onOpen={open} onUrlFailed={invalidate} />, 'video');
      break;
    case 'audio':
      content = <AudioPlayer item={{ ...stand, duration }} label={item.filename && !/^voice[-_ ]?note/i.test(item.filename) ? item.filename : 'voice note'} onUrlFailed={invalidate} />;
      break;
    default:
      content = <DocumentRow item={stand} filename={item.filename} />;
  }
  const provenance = full?.provenance ?? item.provenance;
  return (
    <>
      {content}
      {visual && provenance && <ProvenanceLabels labels={provenance.labels} compact={fill} />}
      {viewing && <MediaViewer items={[item]} onClose={() => setViewing(false)} />}
    </>
  );
}

function shownStatus(item: MediaSummary, full: MediaItem | null, errorStatus: number | undefined): Shown {
  if (item.status === 'removed') return 'removed';
  if (item.status === 'held') return 'held';
  if (!full && errorStatus === 404) return 'unavailable';
  return full?.status ?? item.status;
}

function kindOfType(type: string | undefined): Kind | null {
  if (type?.startsWith('image/')) return 'image';
  if (type?.startsWith('video/')) return 'video';
  return null;
}

/** The box's shape as a CSS variable; media.css turns it into a capped width and an aspect ratio. */
function boxStyle(width: number | undefined, height: number | undefined): CSSProperties {
  const ratio = width && height ? Math.min(MAX_RATIO, Math.max(MIN_RATIO, width / height)) : 4 / 3;
  return { '--media-ratio': ratio.toFixed(4) } as CSSProperties;
}

/** A MediaItem with no URLs yet, from the summary, so players can lay themselves out meanwhile. */
function standIn(item: MediaSummary): MediaItem {
  return { ...item, status: 'ready', size: 0, renditions: {}, created_at: 0, kind: item.kind, blurred: item.blurred } as MediaItem;
}

function useLocalPreview(id: string): LocalPreview | undefined {
  return useSyncExternalStore(onLocalPreviewChange, () => lookupLocalPreview(id));
}

function LocalLayer({ preview, alt }: { preview: LocalPreview; alt: string }) {
  const [broken, setBroken] = useState(false);
  if (broken) return null;
  return preview.type.startsWith('video/') ? (
    <video className="media-local" src={preview.url} muted playsInline preload="metadata" aria-label={alt} onError={() => setBroken(true)} />
  ) : (
    <img className="media-local" src={preview.url} alt={alt} onError={() => setBroken(true)} />
  );
}

function ImageContent(props: { item: MediaItem; placeholder: string | undefined; local: LocalPreview | undefined; alt: string; fill: boolean; onOpen(): void; onUrlFailed(): void }) {
  const { item, placeholder, local, alt, fill } = props;
  // Album tiles are small: the 320 px thumbnail is sharp enough unless the screen is dense.
  const small = fill && typeof window !== 'undefined' && window.devicePixelRatio <= 1.5;
  const rendition = (small ? item.renditions.thumbnail : undefined) ?? item.renditions.preview ?? item.renditions.thumbnail;
  const { src, failed } = useStableUrl(rendition?.url, props.onUrlFailed);
  const [loaded, setLoaded] = useState(false);
  const [faded, setFaded] = useState(false);
  const [broken, setBroken] = useState(false);
  return (
    <button type="button" className="media-hit" onClick={props.onOpen} aria-label={`${alt}. Open full size`}>
      {!faded && (local && !local.type.startsWith('video/') ? <img className="media-local" src={local.url} alt="" aria-hidden="true" /> : placeholder && <img className="media-placeholder" src={placeholder} alt="" aria-hidden="true" />)}
      {src && !broken && (
        <img
          className={`media-img${loaded ? ' loaded' : ''}`}
          src={src}
          alt={alt}
          decoding="async"
          onLoad={() => setLoaded(true)}
          onTransitionEnd={() => setFaded(true)}
          onError={() => {
            if (!failed()) setBroken(true);
          }}
        />
      )}
      {broken && <span className="media-overlay-note">Could not load the photo</span>}
    </button>
  );
}

function VideoContent(props: { item: MediaItem; label: string; duration: number | undefined; inline: boolean; onOpen(): void; onUrlFailed(): void }) {
  const { item, label, duration } = props;
  const [playing, setPlaying] = useState(false);
  const [loaded, setLoaded] = useState(false);
  const poster = useStableUrl(item.renditions.poster?.url, props.onUrlFailed);
  if (playing && props.inline) return <VideoPlayer item={item} label={label} autoPlay onUrlFailed={props.onUrlFailed} />;
  const ready = Boolean(item.renditions.hls || item.renditions.mp4);
  return (
    <button
      type="button"
      className="media-hit"
      disabled={!ready}
      onClick={() => (props.inline ? setPlaying(true) : props.onOpen())}
      aria-label={`Play ${label}${duration ? `, ${spokenDuration(duration)}` : ''}`}
    >
      {poster.src && <img className={`media-img${loaded ? ' loaded' : ''}`} src={poster.src} alt="" onLoad={() => setLoaded(true)} onError={() => poster.failed()} />}
      <span className="media-play" aria-hidden="true">
        <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path d="M8 5.5v13a1 1 0 0 0 1.5.86l10.5-6.5a1 1 0 0 0 0-1.72L9.5 4.64A1 1 0 0 0 8 5.5z" />
        </svg>
      </span>
      {/* Whole seconds cut, not rounded, as browsers' players show it: 2.6 s reads 0:02 on both. */}
      {duration !== undefined && <span className="media-duration">{formatDuration(duration)}</span>}
    </button>
  );
}

function DocumentRow({ item, filename }: { item: MediaItem; filename: string | null }) {
  const file = item.renditions.file;
  const name = filename ?? 'Document';
  const extension = (/\.([a-z0-9]{1,5})$/i.exec(name)?.[1] ?? item.mime?.split('/')[1]?.split(/[.+-]/).pop() ?? 'file').toUpperCase();
  const size = formatBytes(file?.size ?? (item.size || undefined));
  return (
    <div className="media-row media-doc">
      <span className="media-doc-icon" aria-hidden="true">
        <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
          <path d="M6 2h8l6 6v13a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V3a1 1 0 0 1 1-1zm7 1.5V9h5.5" />
        </svg>
        <span className="media-doc-ext">{extension.slice(0, 4)}</span>
      </span>
      <span className="media-doc-text">
        <span className="media-doc-name" title={name}>
          {name}
        </span>
        <span className="media-doc-meta">{[size, extension].filter(Boolean).join(' · ')}</span>
      </span>
      {file ? (
        <a className="media-doc-download" href={file.url} download={name}>
          <svg viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <path d="M12 4v11m0 0-4.5-4.5M12 15l4.5-4.5M5 19h14" />
          </svg>
          <span className="media-sr-only">
            Download {name}
            {size ? `, ${size}` : ''}
          </span>
        </a>
      ) : (
        <span className="media-doc-download disabled" aria-hidden="true" />
      )}
    </div>
  );
}

function StatusIcon({ status }: { status: Shown }) {
  const path =
    status === 'held'
      ? 'M12 3 4 6v6c0 4.5 3.4 8.3 8 9 4.6-.7 8-4.5 8-9V6l-8-3z' // a shield
      : status === 'failed'
        ? 'M12 3 2 20h20L12 3zm0 6v5m0 3v.5' // a warning sign
        : 'M5 5l14 14M19 5 5 19'; // removed, unavailable: a cross
  return (
    <svg className="media-note-icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
      <path d={path} />
    </svg>
  );
}
