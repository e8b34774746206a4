/**
 * MMD's video rule, kept apart from the matcher so the hashing threads can run it (it is pure and
 * CPU-bound: comparing two one-minute signatures costs up to a second).
 */
import type { MatchRule } from '@mmd/contracts';
import { decodeVideoSignature, matchVideo, referenceFromQuery, type VideoSignature, withoutVariants } from '@mmd/phash';

/** The rule of a video match made only through anchored regions (weaker evidence, as pdq_crop). */
export const VIDEO_CROP_RULE = 'video_crop' satisfies MatchRule;

/**
 * The query shows the reference on one timeline (matchVideo). Exactly one side carries
 * rotation/mirror variants — the query (an upload's signature keeps them), else the reference —
 * never both: both would compare 64 orientations and add nothing but chances of a false match.
 * `video` when at least 4 agreeing frames came through whole-picture or centre hashes (as strong
 * as vPDQ), else `video_crop`; null when it does not match.
 */
export function videoRule(query: VideoSignature, reference: VideoSignature, maxDistance = 31): MatchRule | null {
  const queryHasVariants = query.frames.some((f) => f.variants && f.variants.length > 0);
  const m = matchVideo(query, queryHasVariants ? withoutVariants(reference) : reference, { maxDistance });
  if (!m.matched) return null;
  return m.wholeFrames >= 4 ? 'video' : VIDEO_CROP_RULE;
}

/**
 * videoRule on written signatures (what crosses to a hashing thread). `thin`: the reference is a
 * stored upload's dense signature, thinned to a reference first (referenceFromQuery). A signature
 * that cannot be read matches nothing.
 */
export function videoRuleOfText(queryText: string, referenceText: string, options: { maxDistance: number; thin: boolean }): MatchRule | null {
  let query: VideoSignature;
  let reference: VideoSignature;
  try {
    query = decodeVideoSignature(queryText);
    reference = decodeVideoSignature(referenceText);
  } catch {
    return null;
  }
  return videoRule(query, options.thin ? referenceFromQuery(reference) : reference, options.maxDistance);
}
