/**
 * Segments' public surface. Campaigns call `audiencePage({ businessId, segmentId | rule,
 * afterContactId, limit })` to walk an audience one page at a time (never the whole of it in
 * memory); `check(businessId, rule)` refuses an unusable rule up front (invalid_segment).
 */
export { createSegments, type Segments, type SegmentsDeps, type AudienceMember, type AudiencePage, MAX_AUDIENCE_PAGE } from './service.ts';
export { segmentRoutes } from './routes.ts';
export { checkRule, type RuleNode, type AttributeTypeName } from './rules.ts';
export type { SegmentsTables } from './schema.ts';
