/**
 * A message's media: one item full width; several photos and videos as a justified mosaic (rows of
 * two to four, each row as tall as its pictures' shapes allow, as Telegram lays out albums), with
 * voice notes and documents listed below. Sizes come from the summaries, so the layout is final
 * before a single image has loaded.
 */
import type { MediaSummary } from '@mmd/sdk';
import { type CSSProperties, useState, useSyncExternalStore } from 'react';
import { localPreviewVersion, lookupLocalPreview, onLocalPreviewChange } from './local-previews.ts';
import { MediaView } from './MediaView.tsx';
import { MediaViewer } from './MediaViewer.tsx';
import './media.css';

export interface MediaAlbumProps {
  /** The message's items, in order (at most 10). */
  media: MediaSummary[];
  /** Called instead of the built-in viewer when a photo or video is opened: its index in `media`. */
  onOpen?: (index: number, item: MediaSummary) => void;
}

/** How many tiles go in each row, by number of photos and videos. */
const ROWS: Record<number, number[]> = {
  1: [1],
  2: [2],
  3: [1, 2],
  4: [2, 2],
  5: [2, 3],
  6: [3, 3],
  7: [2, 2, 3],
  8: [2, 3, 3],
  9: [3, 3, 3],
  10: [3, 3, 4],
};

/** Tiles keep roughly their picture's shape, within limits so no tile becomes a sliver. */
function tileRatio(item: MediaSummary): number {
  const local = lookupLocalPreview(item.id);
  const width = item.width ?? local?.width;
  const height = item.height ?? local?.height;
  if (!width || !height) return 1;
  return Math.min(1.8, Math.max(0.6, width / height));
}

function isVisual(item: MediaSummary): boolean {
  if (item.kind === 'image' || item.kind === 'video') return true;
  // Still processing, kind unknown: the sender's own photos and videos are known by their file.
  const type = item.kind === null ? lookupLocalPreview(item.id)?.type : undefined;
  return Boolean(type && (type.startsWith('image/') || type.startsWith('video/')));
}

export function MediaAlbum({ media, onOpen }: MediaAlbumProps) {
  const [viewing, setViewing] = useState<number | null>(null);
  // The sender's own items: re-lay out when their local sizes become known.
  useSyncExternalStore(onLocalPreviewChange, localPreviewVersion);
  const visual = media.filter(isVisual);
  const others = media.filter((item) => !isVisual(item));
  const open = (item: MediaSummary) => () => {
    if (onOpen) onOpen(media.indexOf(item), item);
    else setViewing(visual.indexOf(item));
  };

  if (media.length === 1 && media[0]) {
    const only = media[0];
    return (
      <div className="media-album single">
        <MediaView item={only} onOpen={onOpen ? open(only) : undefined} />
      </div>
    );
  }

  const rows: MediaSummary[][] = [];
  let next = 0;
  for (const count of ROWS[Math.min(visual.length, 10)] ?? []) {
    rows.push(visual.slice(next, next + count));
    next += count;
  }

  return (
    <div className="media-album">
      {rows.length > 0 && (
        <div className="media-mosaic">
          {rows.map((row) => {
            const ratios = row.map(tileRatio);
            const total = ratios.reduce((a, b) => a + b, 0);
            return (
              <div key={row[0]?.id} className="media-mosaic-row" style={{ '--row-ratio': total.toFixed(4) } as CSSProperties}>
                {row.map((item, i) => (
                  <div key={item.id} className="media-tile" style={{ flexGrow: ratios[i] }}>
                    {/* A video in a tile opens in the viewer, where there is room to watch it. */}
                    <MediaView item={item} fill onOpen={open(item)} />
                  </div>
                ))}
              </div>
            );
          })}
        </div>
      )}
      {others.length > 0 && (
        <div className="media-list">
          {others.map((item) => (
            <MediaView key={item.id} item={item} />
          ))}
        </div>
      )}
      {viewing !== null && <MediaViewer items={visual} start={viewing} onClose={() => setViewing(null)} />}
    </div>
  );
}
