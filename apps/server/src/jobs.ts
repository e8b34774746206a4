/**
 * Every background job MMD runs, by type. The worker's handler map is typed from this, so adding a
 * job type without a handler does not compile.
 */
export interface JobPayloads {
  /** Inspect, strip and transcode one upload into its renditions. */
  'media-process': { mediaId: string };
}
