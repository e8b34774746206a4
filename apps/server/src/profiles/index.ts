/**
 * Profiles' public surface: what app.ts wires and what other capabilities may use. Other
 * capabilities import from this file only, and never query `profiles`, `profile_words` or `presence`.
 */
export { createProfiles, type Profiles, type ProfilesDeps, visibleTo, displayNameOf } from './service.ts';
export { profileRoutes } from './routes.ts';
export { createPresence, type PresenceService } from './presence.ts';
