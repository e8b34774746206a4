/** The tables the queue capability owns (Kysely types). Times are Unix milliseconds. */

/** A durable background job (platform/queue). */
export interface JobsTable {
  id: string;
  type: string;
  /** JSON. */
  payload: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  /**
   * When the job may next be claimed: its due time while queued, its lease expiry while running.
   * One column serves both, so claiming is one range scan of one (partial) index.
   */
  available_at: number;
  /** Claims so far, including one whose worker died. */
  attempts: number;
  max_attempts: number;
  /** The current lease holder's token; completion must present it (fencing). */
  lease_token: string | null;
  /** At most one job per key, ever (until pruned). */
  dedupe_key: string | null;
  /** 0..100. */
  progress: number;
  /** JSON of the handler's return value, once succeeded. */
  result: string | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
  finished_at: number | null;
}

export interface QueueTables {
  jobs: JobsTable;
}
