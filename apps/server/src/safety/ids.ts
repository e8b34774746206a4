/** Ids for safety records, and protection case references people can read out and type. */
import { randomBytes } from 'node:crypto';

export function safetyId(prefix: 'bnk' | 'rev' | 'rpt' | 'tkd'): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

// Crockford base32: no I, L, O or U to misread.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/**
 * A protection case reference, e.g. `P-7KQ2-M9XD-43TF-AW8R`: 80 random bits, because the reference
 * alone reads the case's state (there is no account). What acts on the case (sharing, withdrawing,
 * asking for removal) also needs its key (caseSecret).
 */
export function caseReference(): string {
  return `P-${crockford(randomBytes(10))}`;
}

/** A protection case's key, e.g. `7KQ2-M9XD-…` (six groups): 120 random bits, shown once. */
export function caseSecret(): string {
  return crockford(randomBytes(15));
}

/** A removal request's id: `E-` and 80 random bits, like a case reference. */
export function erasureId(): string {
  return `E-${crockford(randomBytes(10))}`;
}

/** Bytes (a multiple of 5) in Crockford base32, in groups of four. */
function crockford(bytes: Buffer): string {
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
  return out.match(/.{4}/g)!.join('-');
}

/** A typed key as stored: upper case, no dashes or spaces, the letters people misread mapped back. */
export function normaliseSecret(secret: string): string {
  return secret.toUpperCase().replace(/[-\s]/g, '').replace(/[IL]/g, '1').replace(/O/g, '0');
}

export const CASE_REFERENCE_PATTERN = '^P-[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$';
