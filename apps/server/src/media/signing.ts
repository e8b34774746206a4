/**
 * Signed media URLs: `/v1/files/{mediaId}/{expires}/{signature}/{path}`. The signature covers the
 * media id and the expiry, not the path, so an HLS master playlist's relative links to its variant
 * playlists and segments stay valid without rewriting every playlist per viewer. Whether the item
 * may still be served (not taken down) is checked on every request, so revoking works at once.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface UrlSigner {
  /** The signed prefix for a media item, valid until `expiresAt` (ms). */
  prefix(mediaId: string, expiresAt: number): string;
  verify(mediaId: string, expiresAtSeconds: string, signature: string, now: number): boolean;
}

export function createUrlSigner(secret: Buffer): UrlSigner {
  const sign = (mediaId: string, expiresSeconds: number) =>
    createHmac('sha256', secret).update(`${mediaId}.${expiresSeconds}`).digest('base64url').slice(0, 32);
  return {
    prefix(mediaId, expiresAt) {
      const seconds = Math.floor(expiresAt / 1000);
      return `/v1/files/${mediaId}/${seconds}/${sign(mediaId, seconds)}`;
    },
    verify(mediaId, expiresAtSeconds, signature, now) {
      if (!/^\d{1,12}$/.test(expiresAtSeconds)) return false;
      const seconds = Number(expiresAtSeconds);
      if (seconds * 1000 < now) return false;
      const expected = Buffer.from(sign(mediaId, seconds));
      const given = Buffer.from(signature);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}
