/** The tables the segments capability owns (Kysely types). Times are Unix milliseconds. */

/** A saved audience rule of one business. */
export interface SegmentsTable {
  id: string;
  business_id: string;
  name: string;
  description: string | null;
  /** The rule as the business wrote it (JSON); checked again each time it is used. */
  rule: string;
  created_by: string;
  created_at: number;
  updated_at: number;
}

export interface SegmentsTables {
  segments: SegmentsTable;
}
