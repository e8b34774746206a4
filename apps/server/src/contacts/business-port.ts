/**
 * What contacts needs from the business capability: who acts for which business with which role
 * (`actor`), the business's settings (quiet hours, frequency caps, default zone) and its public
 * profile. app.ts passes the business service itself; the narrow type keeps contacts' tests free
 * to pass a fake.
 */
import type { Business } from '../business/index.ts';

export type BusinessPort = Pick<Business, 'actor' | 'settings' | 'profile' | 'profileByHandle'>;
export type { BusinessActor, BusinessPermission } from '../business/index.ts';
export type BusinessSettingsView = Awaited<ReturnType<Business['settings']>>;
