/**
 * The full-size viewer: a modal <dialog> over the chat (Escape or the close button closes it, focus
 * goes back to the photo that opened it), with previous/next for albums (buttons and arrow keys).
 */
import type { MediaSummary } from '@mmd/sdk';
import { useRef, useState } from 'react';
import { useSession } from '../session.tsx';
import { useModal } from '../use-modal.ts';
import { describeImage } from './format.ts';
import { useMediaItem } from './media-cache.ts';
import { useRevealed } from './reveal.ts';
import { VideoPlayer } from './VideoPlayer.tsx';
import './media.css';

export function MediaViewer({ items, start = 0, onClose }: { items: MediaSummary[]; start?: number; onClose(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  const [index, setIndex] = useState(Math.min(Math.max(0, start), items.length - 1));
  useModal(ref, onClose);

  const item = items[index];
  if (!item) return null;
  const many = items.length > 1;
  const go = (delta: number) => setIndex((i) => (i + delta + items.length) % items.length);
  const title = item.kind === 'video' ? (item.filename ?? 'Video') : describeImage(item);

  return (
    <dialog
      ref={ref}
      className="media-viewer"
      aria-label={many ? `${title} (${index + 1} of ${items.length})` : title}
      onKeyDown={(event) => {
        // Arrow keys page through an album, unless a video's own controls have focus.
        if (!many || (event.target as HTMLElement).tagName === 'VIDEO') return;
        if (event.key === 'ArrowRight') go(1);
        else if (event.key === 'ArrowLeft') go(-1);
      }}
      onClick={(event) => {
        // A click on the backdrop (the dialog itself, outside its content) closes.
        if (event.target === event.currentTarget) event.currentTarget.close();
      }}
    >
      <div className="media-viewer-bar">
        <span className="media-viewer-title">
          {title}
          {many && <span className="media-viewer-count"> · {index + 1} of {items.length}</span>}
        </span>
        <button type="button" className="media-viewer-close" aria-label="Close" onClick={() => ref.current?.close()}>
          ✕
        </button>
      </div>
      <div className="media-viewer-stage">
        <ViewerContent key={item.id} item={item} title={title} />
        {many && (
          <>
            <button type="button" className="media-viewer-nav prev" aria-label="Previous" onClick={() => go(-1)}>
              ‹
            </button>
            <button type="button" className="media-viewer-nav next" aria-label="Next" onClick={() => go(1)}>
              ›
            </button>
          </>
        )}
      </div>
    </dialog>
  );
}

function ViewerContent({ item, title }: { item: MediaSummary; title: string }) {
  const { client } = useSession();
  const { item: full, error, invalidate } = useMediaItem(client, item.status === 'ready' ? item.id : null, item.status);
  const [revealed, reveal] = useRevealed(item.id);
  const [loaded, setLoaded] = useState(false);
  if (item.status !== 'ready') return <p className="media-viewer-note">{item.status === 'processing' ? 'Still processing…' : 'Not available'}</p>;
  if ((item.blurred || full?.blurred) && !revealed) {
    return (
      <div className="media-viewer-note">
        <p>This may contain sensitive content.</p>
        <button type="button" onClick={reveal}>
          View
        </button>
      </div>
    );
  }
  if (!full) return error ? <p className="media-viewer-note">Could not load this. {error.message}</p> : <p className="media-viewer-note" aria-busy="true">Loading…</p>;
  if (full.kind === 'video') return <VideoPlayer item={full} label={title} autoPlay onUrlFailed={invalidate} />;
  const preview = full.renditions.preview;
  return (
    <div className="media-viewer-image">
      {item.placeholder && !loaded && <img className="media-viewer-placeholder" src={item.placeholder} alt="" aria-hidden="true" />}
      {preview && <img className={`media-viewer-full${loaded ? ' loaded' : ''}`} src={preview.url} alt={title} width={preview.width} height={preview.height} onLoad={() => setLoaded(true)} />}
    </div>
  );
}
