/**
 * The business capability's public surface: businesses, their teams and roles, settings, the
 * public profile, and `actor(...)`, which every /v1/business/* route of every capability uses to
 * learn who calls for which business. Other capabilities import from this file only, and never
 * query `business_profiles` or `business_members`.
 */
export { createBusiness, type Business, type BusinessActor, type BusinessPermission, type BusinessDeps, roleAllows } from './service.ts';
export { businessRoutes } from './routes.ts';
