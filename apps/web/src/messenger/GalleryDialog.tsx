/**
 * A chat's media, links and documents (GET /v1/conversations/{id}/media), in three tabs: photos
 * and videos as a grid of thumbnails (opening one shows it full size, with every loaded item to
 * page through), documents as download rows, links as a list. Every item can be shown in the
 * chat, at its message. The server decides what is listed, by history's rules.
 */
import type { GalleryItem, GalleryType, MediaSummary } from '@mmd/sdk';
import { type KeyboardEvent, useCallback, useEffect, useRef, useState } from 'react';
import { errorText } from '../api.ts';
import { ErrorAlert } from '../error-alert.tsx';
import { MediaView } from '../media/MediaView.tsx';
import { MediaViewer } from '../media/MediaViewer.tsx';
import { useStore } from './context.ts';
import { Dialog } from './Dialog.tsx';
import { listTime } from './format.ts';

type Tab = 'media' | 'document' | 'link';
const TABS: { id: Tab; label: string; types: GalleryType[]; empty: string }[] = [
  { id: 'media', label: 'Media', types: ['photo', 'video'], empty: 'No photos or videos in this chat yet.' },
  { id: 'document', label: 'Docs', types: ['document'], empty: 'No documents in this chat yet.' },
  { id: 'link', label: 'Links', types: ['link'], empty: 'No links in this chat yet.' },
];
const PAGE = 30;

/** One gallery type's pages: what is loaded, and where the next page starts (null: the end). */
interface Stream {
  items: GalleryItem[];
  next: string | null;
}

/**
 * Photos and videos come as two newest-first streams; shown merged, only down to the older of
 * their frontiers, so an item never appears above a newer one that is not loaded yet.
 */
export function mergeStreams(streams: Stream[]): { items: GalleryItem[]; more: boolean } {
  const open = streams.filter((s) => s.next !== null && s.items.length > 0);
  const floor = open.length === 0 ? Number.NEGATIVE_INFINITY : Math.max(...open.map((s) => s.items.at(-1)!.message.created_at));
  const seen = new Set<string>();
  const items = streams
    .flatMap((s) => s.items)
    .filter((i) => i.message.created_at >= floor)
    .sort((a, b) => b.message.created_at - a.message.created_at)
    // A message with a photo and a video comes in both streams: once, with both.
    .flatMap((i) => {
      if (seen.has(i.message.id)) return [];
      seen.add(i.message.id);
      const media = streams.flatMap((s) => s.items.filter((o) => o.message.id === i.message.id).flatMap((o) => o.media));
      return [{ ...i, media: i.message.media.filter((m) => media.some((x) => x.id === m.id)) }];
    });
  return { items, more: streams.some((s) => s.next !== null) };
}

/** `onShowInChat`: also called when an item is shown in the chat (a dialog that opened this one closes too). */
export function GalleryDialog({ conversationId, onClose, onShowInChat }: { conversationId: string; onClose: () => void; onShowInChat?: () => void }) {
  const store = useStore();
  const [tab, setTab] = useState<Tab>('media');
  const [streams, setStreams] = useState<Partial<Record<GalleryType, Stream>>>({});
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [viewing, setViewing] = useState<{ items: MediaSummary[]; start: number } | null>(null);
  const tabs = useRef<HTMLDivElement>(null);
  const current = TABS.find((t) => t.id === tab)!;

  const load = useCallback(
    async (types: GalleryType[], more: boolean) => {
      setLoading(true);
      setError(null);
      try {
        const pages = await Promise.all(
          types.map(async (type) => {
            const had = streams[type];
            if (more && had?.next === null) return [type, had] as const;
            if (!more && had) return [type, had] as const;
            const page = await store.client.gallery(conversationId, { type, before: more ? (had?.next ?? undefined) : undefined, limit: PAGE });
            return [type, { items: [...(more ? (had?.items ?? []) : []), ...page.items], next: page.next_cursor }] as const;
          }),
        );
        setStreams((s) => ({ ...s, ...Object.fromEntries(pages) }));
      } catch (err) {
        setError(errorText(err));
      } finally {
        setLoading(false);
      }
    },
    [store, conversationId, streams],
  );

  // biome-ignore lint/correctness/useExhaustiveDependencies: loads a tab's first page when it is first shown
  useEffect(() => {
    void load(current.types, false);
  }, [tab]);

  const loaded = current.types.map((t) => streams[t]).filter((s): s is Stream => s !== undefined);
  const ready = loaded.length === current.types.length;
  const { items, more } = mergeStreams(loaded);

  const showInChat = (item: GalleryItem) => {
    onClose();
    onShowInChat?.();
    void store.revealMessage(conversationId, item.message.id, item.message.seq);
  };

  // Arrow keys move between tabs, as the tabs pattern has it.
  const onTabKey = (event: KeyboardEvent) => {
    if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
    const at = TABS.findIndex((t) => t.id === tab);
    const next = TABS[(at + (event.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length]!;
    setTab(next.id);
    tabs.current?.querySelector<HTMLButtonElement>(`#gallery-tab-${next.id}`)?.focus();
  };

  const visual = items.flatMap((i) => i.media);
  return (
    <Dialog title="Media, links and docs" onClose={onClose} wide className="gallery-dialog">
      <div className="gallery-tabs" role="tablist" aria-label="What to show" ref={tabs} onKeyDown={onTabKey}>
        {TABS.map((t) => (
          <button
            key={t.id}
            id={`gallery-tab-${t.id}`}
            type="button"
            role="tab"
            aria-selected={t.id === tab}
            aria-controls="gallery-panel"
            tabIndex={t.id === tab ? 0 : -1}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div id="gallery-panel" role="tabpanel" aria-labelledby={`gallery-tab-${tab}`} aria-busy={loading} className="gallery-panel">
        <ErrorAlert error={error} />
        {ready && items.length === 0 && !loading && <p className="pane-note">{current.empty}</p>}
        {!ready && !error && <p className="pane-note">Loading…</p>}
        {tab === 'media' && items.length > 0 && (
          <ul className="gallery-grid">
            {items.flatMap((item) =>
              item.media.map((m) => (
                <li key={m.id} className="gallery-tile">
                  <MediaView item={m} fill onOpen={() => setViewing({ items: visual, start: visual.indexOf(m) })} />
                  <button type="button" className="gallery-jump" onClick={() => showInChat(item)} aria-label={`Show in chat: ${m.kind === 'video' ? 'video' : 'photo'} from @${item.message.sender_handle}, ${listTime(item.message.created_at)}`}>
                    Show in chat
                  </button>
                </li>
              )),
            )}
          </ul>
        )}
        {tab === 'document' && items.length > 0 && (
          <ul className="gallery-list">
            {items.map((item) => (
              <li key={item.message.id} className="gallery-item">
                {item.media.map((m) => (
                  <MediaView key={m.id} item={m} />
                ))}
                <GalleryMeta item={item} onShow={() => showInChat(item)} />
              </li>
            ))}
          </ul>
        )}
        {tab === 'link' && items.length > 0 && (
          <ul className="gallery-list">
            {items.map((item) => (
              <li key={item.message.id} className="gallery-item">
                {item.links.map((url) => (
                  <a key={url} className="gallery-link" href={url} target="_blank" rel="noopener noreferrer nofollow">
                    {item.message.link_preview?.url === url && item.message.link_preview.title ? <span className="gallery-link-title">{item.message.link_preview.title}</span> : null}
                    <span className="gallery-link-url">{url}</span>
                  </a>
                ))}
                <GalleryMeta item={item} onShow={() => showInChat(item)} />
              </li>
            ))}
          </ul>
        )}
        {more && ready && (
          <button type="button" className="search-more" disabled={loading} onClick={() => void load(current.types, true)}>
            Show more
          </button>
        )}
      </div>
      {viewing && <MediaViewer items={viewing.items} start={viewing.start} onClose={() => setViewing(null)} />}
    </Dialog>
  );
}

function GalleryMeta({ item, onShow }: { item: GalleryItem; onShow: () => void }) {
  return (
    <p className="gallery-meta">
      <span>
        @{item.message.sender_handle} · <time dateTime={new Date(item.message.created_at).toISOString()}>{listTime(item.message.created_at)}</time>
      </span>
      <button type="button" className="gallery-show" onClick={onShow}>
        Show in chat
      </button>
    </p>
  );
}
