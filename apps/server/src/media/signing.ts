/**
 * Signed media URLs: `/v1/files/{mediaId}/{viewerId}/{expires}/{signature}/{path}`. The signature
 * covers the media id, the viewer it was issued to and the expiry, not the path, so an HLS master
 * playlist's relative links to its variant playlists and segments stay valid without rewriting
 * every playlist per viewer. The files route checks on every request that the item may still be
 * served (not taken down) and that the viewer may still see it (still a member where it was sent,
 * the message not deleted), so a link dies with its viewer's access, not only at its expiry.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface UrlSigner {
  /** The signed prefix for a media item shown to `viewerId`, valid until `expiresAt` (ms). */
  prefix(mediaId: string, viewerId: string, expiresAt: number): string;
  verify(
    link: { mediaId: string; viewerId: string; expires: string; signature: string },
    now: number,
  ): boolean;
}

/** `basePath`: where the signed links point (profile photos use a route of their own). */
export function createUrlSigner(secret: Buffer, basePath = '/v1/files'): UrlSigner {
  // Ids never contain a dot, so the joined string names one (media, viewer, expiry) triple only.
  const sign = (mediaId: string, viewerId: string, expiresSeconds: number) =>
    createHmac('sha256', secret)
      .update(`${mediaId}.${viewerId}.${expiresSeconds}`)
      .digest('base64url')
      .slice(0, 32);
  return {
    prefix(mediaId, viewerId, expiresAt) {
      const seconds = Math.floor(expiresAt / 1000);
      return `${basePath}/${mediaId}/${viewerId}/${seconds}/${sign(mediaId, viewerId, seconds)}`;
    },
    verify({ mediaId, viewerId, expires, signature }, now) {
      if (!/^\d{1,12}$/.test(expires)) return false;
      const seconds = Number(expires);
      if (seconds * 1000 < now) return false;
      const expected = Buffer.from(sign(mediaId, viewerId, seconds));
      const given = Buffer.from(signature);
      return expected.length === given.length && timingSafeEqual(expected, given);
    },
  };
}

/**
 * A request URL fit for logs: a signed media link loses its signature (anyone holding the whole
 * link could fetch the item until it expires) and a `token=` query parameter its value.
 */
export function redactUrl(url: string): string {
  return url
    .replace(/^(\/v1\/(?:files|profile-photos)\/[^/?]*\/[^/?]*\/[^/?]*\/)[^/?]*/, '$1[redacted]')
    .replace(/([?&]token=)[^&]*/gi, '$1[redacted]');
}
