/**
 * Media items: what an upload becomes once MMD has sniffed, stripped and transcoded it. Rendition
 * URLs are signed and expire; only the uploader and members of a conversation holding the item
 * receive them.
 */
import { type Static, Type } from 'typebox';
import { MediaProvenance } from './provenance.ts';

/** At most this many media items in one message (an album), as Telegram allows. */
export const MAX_MEDIA_PER_MESSAGE = 10;

export const MediaKind = Type.Enum(['image', 'video', 'audio', 'document']);
export type MediaKind = Static<typeof MediaKind>;
/** held: matched a hold bank and waits for a moderator (its messages wait too). */
export const MediaStatus = Type.Enum(['processing', 'ready', 'failed', 'held']);
export type MediaStatus = Static<typeof MediaStatus>;

export const Rendition = Type.Object({
  url: Type.String({ description: 'signed, expiring; range requests supported' }),
  mime: Type.String(),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  size: Type.Optional(Type.Integer()),
});
export type Rendition = Static<typeof Rendition>;

export const MediaItem = Type.Object({
  id: Type.String(),
  kind: Type.Union([MediaKind, Type.Null()]),
  status: MediaStatus,
  reason: Type.Optional(Type.String({ description: 'why processing failed' })),
  reason_code: Type.Optional(Type.String()),
  mime: Type.Union([Type.String(), Type.Null()]),
  size: Type.Integer({ minimum: 0 }),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  duration: Type.Optional(Type.Number({ description: 'seconds' })),
  placeholder: Type.Optional(Type.String({ description: 'a tiny image as a data: URL, for instant display' })),
  waveform: Type.Optional(Type.Array(Type.Number(), { description: 'peaks 0..1 for voice notes and audio' })),
  filename: Type.Union([Type.String(), Type.Null()]),
  blurred: Type.Optional(Type.Boolean({ description: 'matched a blur bank: show it behind a warning the viewer taps through' })),
  provenance: Type.Optional(MediaProvenance),
  /**
   * By name: `thumbnail`, `preview` (AVIF/WebP/JPEG chosen from the Accept header),
   * `thumbnail.avif|webp|jpg`, `preview.…`, `poster`, `mp4`, `hls` (master playlist), `opus`,
   * `aac`, `file` (documents).
   */
  renditions: Type.Record(Type.String(), Rendition),
  created_at: Type.Integer(),
  expires_at: Type.Optional(Type.Integer({ description: 'when the rendition URLs stop working (ms)' })),
});
export type MediaItem = Static<typeof MediaItem>;

export const UploadReply = Type.Object({ id: Type.String(), status: MediaStatus });
export type UploadReply = Static<typeof UploadReply>;

export const AdaptQuery = Type.Object(
  {
    max_bytes: Type.Integer({ minimum: 100, maximum: 100 * 1024 * 1024, description: 'e.g. 307200, 614400, 1048576 (carrier MMS limits)' }),
    accept: Type.Optional(Type.String({ maxLength: 400, description: 'comma-separated MIME types the recipient accepts, e.g. "image/jpeg" or "video/mp4;profile=baseline"' })),
  },
  { additionalProperties: false },
);
