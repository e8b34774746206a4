/** Media rows: what an upload became, where its renditions live, and who may see it. */
import { type MediaItem, type MediaKind, type MediaProvenance, type MediaStatus, provenanceLabels } from '@mmd/contracts';
import type { ProvenanceReading } from '@mmd/media';
import { mayReadSeq } from '../conversations/index.ts';
import type { Database, Tx } from '../platform/db/index.ts';
import type { MediaTable } from './schema.ts';

/** A stored rendition: blob key plus what a client needs to pick it. */
export interface StoredRendition {
  key: string;
  mime: string;
  width?: number;
  height?: number;
  size?: number;
}

/** A media row as stored (the table's own type: one definition, in media/schema.ts). */
export type MediaRow = MediaTable;

/** What a message carries about each attached item (no URLs: those are signed per request). */
export interface MediaSummary {
  id: string;
  kind: MediaKind | null;
  status: MediaStatus | 'removed';
  mime: string | null;
  width?: number;
  height?: number;
  duration?: number;
  placeholder?: string;
  filename: string | null;
  blurred?: boolean;
  provenance?: MediaProvenance;
}

export function summarise(row: MediaRow): MediaSummary {
  return {
    id: row.id,
    kind: row.kind,
    status: row.status,
    mime: row.mime,
    ...(row.width ? { width: Number(row.width), height: Number(row.height) } : {}),
    ...(row.duration_ms ? { duration: Number(row.duration_ms) / 1000 } : {}),
    ...(row.placeholder ? { placeholder: row.placeholder } : {}),
    filename: row.filename,
    ...(row.safety === 'blur' ? { blurred: true } : {}),
    ...provenanceOf(row),
  };
}

/**
 * The API's provenance record: what was read from the original (stored, since renditions carry no
 * metadata) with the uploader's disclosure on top. Nothing for items never read or disclosed.
 */
export function provenanceOf(row: Pick<MediaRow, 'provenance' | 'ai_disclosure'>): { provenance?: MediaProvenance } {
  if (!row.provenance && !row.ai_disclosure) return {};
  const read: Partial<ProvenanceReading> = row.provenance ? (JSON.parse(row.provenance) as ProvenanceReading) : {};
  const disclosed = row.ai_disclosure ?? null;
  // The stronger claim wins: a disclosure of "partly AI" does not hide credentials saying "generated".
  const ai = read.ai === 'generated' || disclosed === 'generated' ? 'generated' : (read.ai ?? disclosed);
  const facts = {
    status: read.status ?? 'none',
    source: read.source ?? null,
    issuer: read.issuer ?? null,
    signer: read.signer ?? null,
    signature_valid: read.signatureValid ?? null,
    hard_binding_valid: read.hardBindingValid ?? null,
    ai,
    edited: read.edited ?? false,
    algorithmic: read.algorithmic ?? false,
    remote_manifest_url: read.remoteManifestUrl ?? null,
    trusted: read.trusted ?? null,
  } satisfies Omit<MediaProvenance, 'label' | 'labels' | 'claim_generator' | 'signed_at' | 'digital_source_type' | 'ai_disclosed' | 'actions' | 'failures'>;
  const labels = provenanceLabels(facts);
  return {
    provenance: {
      ...facts,
      label: labels[0] ?? null,
      labels,
      claim_generator: read.claimGenerator ?? null,
      signed_at: read.signedAt ?? null,
      digital_source_type: read.digitalSourceType ?? null,
      ai_disclosed: disclosed,
      actions: read.actions ?? [],
      failures: read.failures ?? [],
    },
  };
}

export function renditionsOf(row: MediaRow): Record<string, StoredRendition> {
  return JSON.parse(row.renditions) as Record<string, StoredRendition>;
}

/** The API view, with every rendition's URL under one signed prefix. */
export function toMediaItem(row: MediaRow, signedPrefix: string | null, expiresAt: number): MediaItem {
  const renditions: MediaItem['renditions'] = {};
  if (signedPrefix && row.status === 'ready') {
    const own = `media/${row.id}/`;
    for (const [name, r] of Object.entries(renditionsOf(row))) {
      // The HLS master is addressed by its real path, so its relative links resolve beside it.
      const urlPath = name === 'hls' && r.key.startsWith(own) ? r.key.slice(own.length) : name;
      renditions[name] = { url: `${signedPrefix}/${urlPath}`, mime: r.mime, ...(r.width ? { width: r.width, height: r.height } : {}), ...(r.size ? { size: r.size } : {}) };
    }
    // Negotiated names: the file route picks AVIF, WebP or JPEG from the Accept header.
    for (const base of ['thumbnail', 'preview']) {
      const jpeg = renditionsOf(row)[`${base}.jpg`];
      if (jpeg) renditions[base] = { url: `${signedPrefix}/${base}`, mime: 'image/*', width: jpeg.width, height: jpeg.height };
    }
  }
  return {
    id: row.id,
    kind: row.kind,
    status: row.status === 'removed' ? 'failed' : row.status,
    ...(row.reason ? { reason: row.reason } : {}),
    ...(row.reason_code ? { reason_code: row.reason_code } : {}),
    mime: row.mime,
    size: Number(row.size),
    ...(row.width ? { width: Number(row.width), height: Number(row.height) } : {}),
    ...(row.duration_ms ? { duration: Number(row.duration_ms) / 1000 } : {}),
    ...(row.placeholder ? { placeholder: row.placeholder } : {}),
    ...(row.waveform ? { waveform: JSON.parse(row.waveform) as number[] } : {}),
    filename: row.filename,
    ...(row.safety === 'blur' ? { blurred: true } : {}),
    ...provenanceOf(row),
    renditions,
    created_at: Number(row.created_at),
    ...(signedPrefix && row.status === 'ready' ? { expires_at: expiresAt } : {}),
  };
}

export async function loadMedia(db: Database['db'] | Tx, id: string): Promise<MediaRow | undefined> {
  return (await db.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst()) as MediaRow | undefined;
}

/**
 * May this account see this media item? Its uploader may; so may any current member of a
 * conversation where a delivered, undeleted message carries it — and, in a group, only if that
 * message is one the member may read (their stays, see conversations/access.ts).
 */
export async function mayView(db: Database['db'], row: MediaRow, accountId: string): Promise<boolean> {
  if (row.owner_id === accountId) return true;
  const carriers = await db
    .selectFrom('message_media')
    .innerJoin('messages', 'messages.id', 'message_media.message_id')
    .innerJoin('members', (j) => j.onRef('members.conversation_id', '=', 'messages.conversation_id').on('members.account_id', '=', accountId))
    .select(['messages.conversation_id', 'messages.seq'])
    .where('message_media.media_id', '=', row.id)
    .where('messages.deleted_at', 'is', null)
    .where('messages.status', '=', 'sent')
    .where('members.left_cursor', 'is', null)
    .limit(100)
    .execute();
  for (const c of carriers) {
    if (await mayReadSeq(db, { conversationId: c.conversation_id, accountId, seq: Number(c.seq) })) return true;
  }
  return false;
}

/**
 * A link preview's picture rides on its message at this position, past any album: the files
 * route lets whoever may read the message fetch it (mayView), a takedown of the picture finds the
 * message (messagesCarrying), and album reads (mediaOfMessages, mediaOfMessageIds) leave it out.
 */
export const PREVIEW_POSITION = 1000;
