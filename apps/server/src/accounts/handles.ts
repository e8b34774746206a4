/**
 * One namespace for every public handle — people, bots, businesses and channels — unique ignoring
 * case and under Unicode's confusable skeleton (UTS #39), so `aIice` (capital i) cannot pose as
 * `alice`, `b0b` as `bob`, `rnary` as `mary`, nor a channel as `@bob`.
 */
import unhomoglyph from 'unhomoglyph';
import { AppError } from '../errors.ts';
import { type Tx, isUniqueViolation } from '../platform/db/index.ts';

/**
 * UTS #39 skeleton: NFD, each character to its prototype in Unicode's confusables table (the data
 * `unhomoglyph` ships), NFD again. Not for display: `m` becomes `rn`.
 */
export function skeleton(text: string): string {
  return unhomoglyph(text.normalize('NFD')).normalize('NFD');
}

/**
 * The keys a handle occupies: its lower-case form (case-insensitive uniqueness) and a case-folded
 * skeleton. Folding after the skeleton catches `AIice` against `Alice` (capital I and small l map
 * to the same prototype); skeleton(lower(…)) alone would miss it.
 */
export function handleKeys(handle: string): string[] {
  return [...new Set([handle.toLowerCase(), skeleton(skeleton(handle).toLowerCase())])];
}

export type HandleOwner = { kind: 'account' | 'channel'; id: string };

/** Reserves a handle for its owner inside the caller's transaction, or refuses it as taken. */
export async function claimHandle(tx: Tx, handle: string, owner: HandleOwner, at: number): Promise<void> {
  try {
    await tx
      .insertInto('handles')
      .values(
        handleKeys(handle).map((key) => ({
          key,
          owner_kind: owner.kind,
          owner_id: owner.id,
          created_at: at,
        })),
      )
      .execute();
  } catch (err) {
    if (isUniqueViolation(err))
      throw new AppError('handle_taken', `the handle "${handle}" is taken (or too like one that is)`);
    throw err;
  }
}
