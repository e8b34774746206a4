/**
 * The sender's own copy of what they just uploaded, shown at once (as an object URL) while the server
 * is still processing it — as WhatsApp and Telegram show your photo in the chat before it has gone
 * anywhere. Only this tab has it; other devices and the recipients see the processed renditions.
 */

export interface LocalPreview {
  /** An object URL for the file (blob:, which the page's CSP allows for images and media). */
  url: string;
  /** The file's MIME type as the browser reported it (may be empty). */
  type: string;
  /** Display size once known (decoded asynchronously for images and videos). */
  width?: number;
  height?: number;
}

/** Object URLs hold the whole file in memory: keep the most recent few, revoke older ones. */
const MAX_PREVIEWS = 40;
const previews = new Map<string, LocalPreview>();
const listeners = new Set<() => void>();

/** Remembers the file just uploaded as `mediaId`, so MediaView can show it while it processes. */
export function rememberLocalPreview(mediaId: string, file: Blob): void {
  if (!file.type.startsWith('image/') && !file.type.startsWith('video/')) return;
  forgetLocalPreview(mediaId);
  const preview: LocalPreview = { url: URL.createObjectURL(file), type: file.type };
  previews.set(mediaId, preview);
  while (previews.size > MAX_PREVIEWS) {
    const oldest = previews.keys().next().value;
    if (oldest === undefined) break;
    forgetLocalPreview(oldest);
  }
  // Knowing the size early lets the bubble reserve the right box before the server has answered.
  void measure(preview).then((size) => {
    if (!size || previews.get(mediaId) !== preview) return;
    previews.set(mediaId, { ...preview, ...size });
    for (const listener of [...listeners]) listener();
  });
}

/** The local preview of an item this tab uploaded, if it still has one. */
export function lookupLocalPreview(mediaId: string): LocalPreview | undefined {
  return previews.get(mediaId);
}

/** Releases the file's memory (e.g. once the processed item has been shown). */
export function forgetLocalPreview(mediaId: string): void {
  const preview = previews.get(mediaId);
  if (!preview) return;
  previews.delete(mediaId);
  URL.revokeObjectURL(preview.url);
}

/** Called when a preview's size becomes known. */
export function onLocalPreviewChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => {
    listeners.delete(listener);
  };
}

let version = 0;
listeners.add(() => {
  version += 1;
});

/** A number that changes whenever any preview changes (for components that read several). */
export function localPreviewVersion(): number {
  return version;
}

async function measure(preview: LocalPreview): Promise<{ width: number; height: number } | null> {
  try {
    if (preview.type.startsWith('image/')) {
      // `load` comes once the (local) bytes are read; decode() would wait for a full decode, which
      // takes seconds for a 20-megapixel photo. Browsers apply EXIF orientation, as the server does.
      const img = new Image();
      await new Promise<void>((resolve, reject) => {
        img.onload = () => resolve();
        img.onerror = () => reject(new Error('unreadable image'));
        img.src = preview.url;
      });
      return img.naturalWidth ? { width: img.naturalWidth, height: img.naturalHeight } : null;
    }
    const video = document.createElement('video');
    video.preload = 'metadata';
    video.muted = true;
    video.src = preview.url;
    await new Promise<void>((resolve, reject) => {
      video.onloadedmetadata = () => resolve();
      video.onerror = () => reject(new Error('unreadable video'));
    });
    const size = video.videoWidth ? { width: video.videoWidth, height: video.videoHeight } : null;
    video.removeAttribute('src');
    video.load(); // let go of the file
    return size;
  } catch {
    return null; // a format this browser cannot show (HEIC, say): the neutral box it is
  }
}

/** Releases every local preview (signing out). */
export function forgetAllLocalPreviews(): void {
  for (const id of [...previews.keys()]) forgetLocalPreview(id);
}
