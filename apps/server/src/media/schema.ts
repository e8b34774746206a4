/** The tables the media capability owns (Kysely types). Times are Unix milliseconds. */

export interface MediaTable {
  id: string;
  owner_id: string;
  /** held: matched a hold bank, waits for a moderator; removed: taken down. */
  status: 'processing' | 'ready' | 'failed' | 'removed' | 'held';
  kind: 'image' | 'video' | 'audio' | 'document' | null;
  mime: string | null;
  filename: string | null;
  size: number;
  /** Content address of the uploaded bytes (sha256/…); deleted after processing unless kept. */
  original_key: string;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  placeholder: string | null;
  /** JSON array of peaks 0..1 (audio). */
  waveform: string | null;
  /** JSON: rendition name → { key, mime, width?, height?, size? }. */
  renditions: string;
  reason: string | null;
  reason_code: string | null;
  /** JSON array of blob keys of budget-adapted copies, oldest first (bounded per item). */
  adapted?: string | null;
  /** 'blur': delivered behind a warning (matched a blur bank). */
  safety?: 'blur' | null;
  /** Its near-duplicate cluster, from screening (safety/clusters.ts): what spread is counted by. */
  cluster_id?: number | null;
  /** JSON of @mmd/media's ProvenanceReading, read from the original before it was stripped. */
  provenance?: string | null;
  /** What the uploader declared about AI at upload or send time. */
  ai_disclosure?: 'generated' | 'partial' | null;
  created_at: number;
  updated_at: number;
}

export interface MessageMediaTable {
  message_id: string;
  media_id: string;
  /** Order in the album, from 0. */
  position: number;
}

/**
 * A resumable (tus) upload not yet finished: its state is here and its bytes are parts in the blob
 * store, so any node can take the next PATCH of an upload another node started.
 */
export interface ResumableUploadTable {
  id: string;
  owner_id: string;
  /** Upload-Length, or null while deferred. */
  size: number | null;
  /** Bytes stored so far (the tus offset): the sum of the parts' sizes. */
  received: number;
  /** The tus metadata, JSON. */
  metadata: string;
  created_at: number;
}

/** One PATCH's bytes: the blob at `blob_key` holds bytes [start, start + size) of the upload. */
export interface ResumableUploadPartTable {
  upload_id: string;
  start: number;
  size: number;
  blob_key: string;
}

export interface MediaTables {
  media: MediaTable;
  message_media: MessageMediaTable;
  resumable_uploads: ResumableUploadTable;
  resumable_upload_parts: ResumableUploadPartTable;
}
