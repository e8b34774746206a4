/**
 * Every background job MMD runs, by type. The worker's handler map is typed from this, so adding a
 * job type without a handler does not compile.
 */
export interface JobPayloads {
  /** Inspect, strip and transcode one upload into its renditions. */
  'media-process': { mediaId: string };
  /** Find and act on stored uploads matching a bank's signals with ids in (afterSignalId, upToSignalId]. */
  'safety-sweep': { bankId: string; afterSignalId: number; upToSignalId: number; caseRef?: string };
}
