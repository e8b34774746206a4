/** Prometheus metrics: the registry app.ts feeds, and the protected GET /metrics route. */
export { createMetrics, type CampaignProgress, type MetricSources, type Metrics, type WebhookOutcome } from './registry.ts';
export { metricsRefusal, metricsRoute } from './route.ts';
