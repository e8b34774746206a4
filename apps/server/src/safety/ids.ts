/** Ids for safety records, and protection case references people can read out and type. */
import { randomBytes } from 'node:crypto';

export function safetyId(prefix: 'bnk' | 'rev' | 'rpt' | 'tkd'): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

// Crockford base32: no I, L, O or U to misread.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A protection case reference, e.g. `P-7KQ2-M9XD-43TF-AW8R`: 80 random bits, because the reference
 * is the only thing that opens the case (there is no account).
 */
export function caseReference(): string {
  const bytes = randomBytes(10);
  let bits = 0;
  let value = 0;
  let out = '';
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return `P-${out.match(/.{4}/g)!.join('-')}`;
}

export const CASE_REFERENCE_PATTERN = '^P-[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$';
