/**
 * A/B variants: each contact gets one, decided by a hash of the campaign id and the contact id,
 * so a re-plan (after a crash, a resend, the next occurrence) gives everyone the variant they had,
 * and the split matches the weights over a large audience without storing anything to decide it.
 */
import { createHash } from 'node:crypto';

export interface Variant {
  name: string;
  template_version_id: string;
  weight: number;
}

/** A point in [0, 1) from the campaign and contact ids (the first 48 bits of SHA-256). */
export function bucketOf(campaignId: string, contactId: string): number {
  const digest = createHash('sha256').update(campaignId).update('\u0000').update(contactId).digest();
  return digest.readUIntBE(0, 6) / 2 ** 48;
}

/** The index of the variant `contactId` gets in `campaignId`. */
export function variantOf(campaignId: string, contactId: string, variants: readonly Pick<Variant, 'weight'>[]): number {
  if (variants.length <= 1) return 0;
  const total = variants.reduce((sum, v) => sum + v.weight, 0);
  let point = bucketOf(campaignId, contactId) * total;
  for (let i = 0; i < variants.length; i += 1) {
    point -= variants[i]!.weight;
    if (point < 0) return i;
  }
  return variants.length - 1;
}

/** Variant names: A, B, C… */
export function variantName(index: number): string {
  return String.fromCharCode(65 + index);
}
