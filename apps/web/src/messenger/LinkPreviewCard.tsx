/**
 * A message's link preview, as the server made it: title, description and the picture (a media
 * item served by MMD, never the site's own image URL). Its sender may remove it for everyone.
 */
import type { LinkPreview } from '@mmd/sdk';
import { CloseIcon } from '../icons.tsx';
import { MediaAlbum } from '../media/MediaAlbum.tsx';

export function LinkPreviewCard({ preview, onRemove }: { preview: LinkPreview; onRemove?: () => void }) {
  let host = '';
  try {
    host = new URL(preview.url).hostname.replace(/^www\./, '');
  } catch {
    // The server only previews URLs that parse; nothing to show if one does not.
  }
  return (
    <aside className="link-preview" aria-label={`Link preview: ${preview.title ?? host}`}>
      {preview.image && (
        <div className="link-preview-image">
          {/* Named for what it illustrates (the stored item's name is the server's). */}
          <MediaAlbum media={[{ ...preview.image, filename: `Picture: ${preview.title ?? host}` }]} />
        </div>
      )}
      <div className="link-preview-body">
        <span className="link-preview-site">{preview.site_name ?? host}</span>
        {preview.title && (
          <a className="link-preview-title" href={preview.url} target="_blank" rel="noopener noreferrer nofollow ugc">
            {preview.title}
          </a>
        )}
        {preview.description && <p className="link-preview-description">{preview.description}</p>}
      </div>
      {onRemove && (
        <button type="button" className="icon link-preview-remove" aria-label="Remove link preview" title="Remove preview" onClick={onRemove}>
          <CloseIcon />
        </button>
      )}
    </aside>
  );
}
