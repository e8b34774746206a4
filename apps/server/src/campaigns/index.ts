/**
 * The campaigns capability's public surface: campaigns (A/B, schedules, throttle, pause/resume/
 * cancel, test sends, resends), the planner and sender lanes that run on a queue of their own,
 * per-recipient status and funnels, and transactional notifications. Other capabilities import
 * from this file only, and never query campaigns' tables.
 */
export { createCampaigns, type Campaigns, type CampaignsDeps, type CampaignJobs, DEFAULT_THROTTLE } from './service.ts';
export { createPlanner, type Planner } from './planner.ts';
export { createSender, type Sender, type SendLanePayload } from './sender.ts';
export { createTracking, ATTRIBUTION_MS } from './tracking.ts';
export { campaignRoutes } from './routes.ts';
export type { AudienceContact, CampaignPorts, GateVerdict, Rendered, SendableMessage, TemplateVersionInfo } from './ports.ts';
export { capabilityPorts } from './wiring.ts';
export { createNotifications, type Notifications } from './notifications.ts';
export { activeCampaignProgress } from './progress.ts';
