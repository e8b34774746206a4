/**
 * What MMD measures, as Prometheus metrics (prom-client), in a registry of this app's own (no
 * global state: two apps in one process, as in tests, never mix their numbers).
 *
 * Labels are bounded by construction: routes are Fastify's route templates (never raw URLs, which
 * carry ids), methods and status classes are small fixed sets, event and job types and campaign
 * stages are the code's own lists. Nothing names an account, a conversation or an address.
 *
 * Counters and histograms are fed where things happen (request ends, commits, fan-out, webhook
 * attempts); gauges that describe stored state (queue depth, campaign progress) are read where it
 * is stored when scraped — the database, or BullMQ's queues in Redis (platform/queue's
 * `backlog`) — so they are right across processes and restarts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { EventBus, PublishedEvent } from '../platform/pubsub/index.ts';
import type { QueuesBacklog } from '../platform/queue/index.ts';

/** Runs not finished, and their recipients by funnel stage (campaigns' activeCampaignProgress). */
export interface CampaignProgress {
  runs: { status: string; n: number }[];
  recipients: { stage: string; n: number }[];
}

/** Where the scrape-time gauges read from; app.ts provides them once the capabilities exist. */
export interface MetricSources {
  openWebSockets(): number;
  subscribers(): { live: number; catchingUp: number };
  /** Where the jobs live: the database's jobs table, or BullMQ's queues in Redis and the outbox. */
  jobs(now: number): Promise<QueuesBacklog>;
  campaigns(): Promise<CampaignProgress>;
}

export type WebhookOutcome = 'succeeded' | 'retrying' | 'failed';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** How many events' commit times are remembered for the fan-out lag (a burst larger is measured in part). */
const MAX_TRACKED_COMMITS = 50_000;

/** How long a scrape waits for a stored-state source before answering without its gauges. */
const SOURCE_TIMEOUT_MS = 2000;

export function createMetrics(options: { clock?: () => number; defaultMetrics?: boolean; sourceTimeoutMs?: number } = {}) {
  const clock = options.clock ?? Date.now;
  const sourceTimeoutMs = options.sourceTimeoutMs ?? SOURCE_TIMEOUT_MS;
  const registry = new Registry();
  // Process CPU, memory, event-loop delay, GC and handles: the usual Node.js set, unprefixed as
  // every Node.js dashboard expects them.
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  let sources: MetricSources | null = null;

  const httpDuration = new Histogram({
    name: 'mmd_http_request_duration_seconds',
    help: 'HTTP requests by route template, method and status class, from arrival to the last byte written',
    labelNames: ['route', 'method', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const events = new Counter({
    name: 'mmd_events_total',
    help: 'Events committed to the event log by this process, by type (rate() gives events/s)',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const fanoutLag = new Histogram({
    name: 'mmd_fanout_lag_seconds',
    help: 'From an event’s commit to the sync hub writing it to the live connections it reaches (events reaching none are not counted)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const commit = new Histogram({
    name: 'mmd_db_commit_seconds',
    help: 'COMMIT of event-writing transactions (SQLite synchronous=FULL: mostly the WAL fsync; PostgreSQL: the round trip waiting for the WAL flush)',
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [registry],
  });
  const webhookAttempts = new Counter({
    name: 'mmd_webhook_deliveries_total',
    help: 'Webhook delivery attempts by outcome: succeeded, retrying (failed, will retry) or failed (given up)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const webhookDuration = new Histogram({
    name: 'mmd_webhook_delivery_duration_seconds',
    help: 'Webhook delivery attempts, request to answer (or error), by outcome',
    labelNames: ['outcome'] as const,
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  for (const outcome of ['succeeded', 'retrying', 'failed'] as const) webhookAttempts.inc({ outcome }, 0);
  const jobRuns = new Counter({
    name: 'mmd_job_runs_total',
    help: 'Job runs this process recorded, by type and outcome: succeeded, retried (failed, will run again) or failed (for good)',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  const jobDuration = new Histogram({
    name: 'mmd_job_run_duration_seconds',
    help: 'How long job handlers ran, by type',
    labelNames: ['type'] as const,
    buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300],
    registers: [registry],
  });

  new Gauge({
    name: 'mmd_websockets_open',
    help: 'WebSocket connections open on this process',
    registers: [registry],
    collect() {
      this.set(sources?.openWebSockets() ?? 0);
    },
  });
  new Gauge({
    name: 'mmd_sync_subscribers',
    help: 'Connections following events on this process (WebSocket streams and waiting long-polls), live or still catching up',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const s = sources?.subscribers() ?? { live: 0, catchingUp: 0 };
      this.set({ state: 'live' }, s.live - s.catchingUp);
      this.set({ state: 'catching_up' }, s.catchingUp);
    },
  });

  // Per queue and job type on the database; per queue only on BullMQ (`type` absent), so
  // `sum by (queue)` and alerts on the age read the same on both.
  const jobLabels = ['queue', 'type'] as const;
  const jobsWaiting = new Gauge({ name: 'mmd_jobs_waiting', help: 'Jobs due and not yet claimed (the backlog), by queue and (database queue) type', labelNames: jobLabels, registers: [registry] });
  const jobsScheduled = new Gauge({ name: 'mmd_jobs_scheduled', help: 'Jobs queued for a later time (retry backoff, scheduled work), by queue and (database queue) type', labelNames: jobLabels, registers: [registry] });
  const jobsRunning = new Gauge({ name: 'mmd_jobs_running', help: 'Jobs claimed by a worker, by queue and (database queue) type', labelNames: jobLabels, registers: [registry] });
  const jobsAge = new Gauge({ name: 'mmd_jobs_oldest_waiting_seconds', help: 'How long the oldest due job has waited to be claimed, by queue and (database queue) type', labelNames: jobLabels, registers: [registry] });
  const jobsFailed = new Gauge({ name: 'mmd_jobs_failed', help: 'BullMQ only: jobs failed for good and still kept (7 days), by queue', labelNames: ['queue'] as const, registers: [registry] });
  const outboxPending = new Gauge({ name: 'mmd_jobs_outbox_pending', help: 'BullMQ only: enqueues committed to the database and not yet moved to BullMQ, by queue', labelNames: ['queue'] as const, registers: [registry] });
  const outboxAge = new Gauge({ name: 'mmd_jobs_outbox_oldest_seconds', help: 'BullMQ only: how long the oldest enqueue not yet moved to BullMQ has waited, by queue', labelNames: ['queue'] as const, registers: [registry] });
  const campaignRuns = new Gauge({ name: 'mmd_campaign_runs', help: 'Campaign runs not finished, by status (waiting, planning, sending)', labelNames: ['status'] as const, registers: [registry] });
  const campaignRecipients = new Gauge({ name: 'mmd_campaign_recipients', help: 'Recipients of campaign runs now planning or sending, by the funnel stages they reached', labelNames: ['stage'] as const, registers: [registry] });

  const sourceFailures = new Counter({
    name: 'mmd_metrics_source_failures_total',
    help: 'Scrapes answered without a stored-state source’s gauges (jobs, campaigns): its read failed or took over 2 s (Redis or the database unreachable)',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  for (const source of ['jobs', 'campaigns'] as const) sourceFailures.inc({ source }, 0);

  /**
   * A source's reading, or null when it failed or is late: the scrape then answers without that
   * source's gauges rather than failing or hanging (BullMQ's connection waits for Redis to come
   * back), so the other metrics still arrive while Redis or the database is down.
   */
  async function settle<T>(source: 'jobs' | 'campaigns', reading: Promise<T>): Promise<T | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => {
      timer = setTimeout(() => resolve(null), sourceTimeoutMs);
      timer.unref();
    });
    try {
      const value = await Promise.race([reading, late]);
      if (value === null) sourceFailures.inc({ source });
      return value;
    } catch {
      sourceFailures.inc({ source });
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Stored state, read once per scrape (one read per source; both small and indexed). */
  async function collectStored() {
    if (!sources) return;
    const [jobs, campaigns] = await Promise.all([settle('jobs', sources.jobs(clock())), settle('campaigns', sources.campaigns())]);
    for (const g of [jobsWaiting, jobsScheduled, jobsRunning, jobsAge, jobsFailed, outboxPending, outboxAge]) g.reset();
    campaignRuns.reset();
    campaignRecipients.reset();
    if (jobs) collectJobs(jobs);
    if (campaigns) collectCampaigns(campaigns);
  }

  function collectJobs(jobs: QueuesBacklog) {
    for (const j of jobs.jobs) {
      const labels = j.type === null ? { queue: j.queue } : { queue: j.queue, type: j.type };
      jobsWaiting.set(labels, j.waiting);
      jobsScheduled.set(labels, j.scheduled);
      jobsRunning.set(labels, j.running);
      jobsAge.set(labels, j.oldestWaitingMs / 1000);
      if (j.failed !== null) jobsFailed.set({ queue: j.queue }, j.failed);
    }
    for (const o of jobs.outbox ?? []) {
      outboxPending.set({ queue: o.queue }, o.pending);
      outboxAge.set({ queue: o.queue }, o.oldestPendingMs / 1000);
    }
  }

  function collectCampaigns(campaigns: CampaignProgress) {
    for (const status of ['waiting', 'planning', 'sending']) campaignRuns.set({ status }, 0);
    for (const r of campaigns.runs) campaignRuns.set({ status: r.status }, r.n);
    for (const r of campaigns.recipients) campaignRecipients.set({ stage: r.stage }, r.n);
  }

  // Commit times of events this process wrote, until the hub dispatches them. Events written by
  // another process are timed from their created_at (the writer's wall clock, inside the transaction).
  const committedAt = new Map<number, number>();

  return {
    registry,
    provide(s: MetricSources) {
      sources = s;
    },
    /** The text exposition, after reading the stored state. */
    async scrape(): Promise<{ contentType: string; body: string }> {
      await collectStored();
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    httpRequest(r: { route: string | undefined; method: string; statusCode: number; seconds: number }) {
      const method = METHODS.has(r.method) ? r.method : 'OTHER';
      // Unmatched requests (404s, scanners) share one label whatever URL they tried.
      httpDuration.observe({ route: r.route ?? 'unmatched', method, status: `${Math.floor(r.statusCode / 100)}xx` }, r.seconds);
    },
    commit(seconds: number) {
      commit.observe(seconds);
    },
    /**
     * The bus, counting what is published: the event writer publishes each transaction's events
     * once it has committed, so this is where committed events are counted and their commit timed.
     */
    instrumentBus(bus: EventBus): EventBus {
      return {
        publish(list: PublishedEvent[]) {
          const now = performance.now();
          // Bounded: events this process's hub never dispatches (already past) would pile up.
          if (committedAt.size + list.length > MAX_TRACKED_COMMITS) committedAt.clear();
          for (const e of list) {
            events.inc({ type: e.type });
            committedAt.set(e.id, now);
          }
          bus.publish(list);
        },
        subscribe: (handler) => bus.subscribe(handler),
        signal: (topic, message) => bus.signal(topic, message),
        onSignal: (topic, handler) => bus.onSignal(topic, handler),
        onResync: (handler) => bus.onResync(handler),
        pollMs: bus.pollMs,
        close: () => bus.close(),
      };
    },
    /** The sync hub wrote an event to `reached` live connections. */
    dispatched(e: PublishedEvent, reached: number) {
      const at = committedAt.get(e.id);
      committedAt.delete(e.id);
      if (reached === 0) return;
      const lag = at !== undefined ? performance.now() - at : Date.now() - e.created_at;
      // A created_at from a clock far off (another process's, a test's) says nothing about lag.
      if (lag >= 0 && lag < 3_600_000) fanoutLag.observe(lag / 1000);
    },
    jobRun(run: { type: string; outcome: 'succeeded' | 'retried' | 'failed'; seconds: number }) {
      jobRuns.inc({ type: run.type, outcome: run.outcome });
      jobDuration.observe({ type: run.type }, run.seconds);
    },
    webhookAttempt(outcome: WebhookOutcome, seconds: number) {
      webhookAttempts.inc({ outcome });
      webhookDuration.observe({ outcome }, seconds);
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
