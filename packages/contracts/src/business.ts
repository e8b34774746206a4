/**
 * Business messaging: a business account, its team (owner, admin, agent, analyst) and its
 * settings. A person acts for a business by sending `x-mmd-business: <business id>` with their
 * own token; the business account itself (its session or API keys) acts as the owner.
 */
import { type Static, Type } from 'typebox';


const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

/** The header naming the business a team member acts for. */
export const BUSINESS_HEADER = 'x-mmd-business';

export const BusinessRole = Type.Enum(['owner', 'admin', 'agent', 'analyst'], {
  description: 'owner and admin run everything; agents answer customers and edit contacts; analysts only read',
});
export type BusinessRole = Static<typeof BusinessRole>;

/** Most people on one business's team. */
export const MAX_TEAM_MEMBERS = 200;

const Clock = Type.String({ pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$', description: 'HH:MM, 24-hour' });
export const QuietHours = Type.Object(
  { start: Clock, end: Clock },
  { additionalProperties: false, description: "marketing waits (it is not dropped) between start and end in each recipient's own time zone" },
);
export type QuietHours = Static<typeof QuietHours>;
export const FrequencyCap = Type.Object(
  { max: Type.Integer({ minimum: 0, maximum: 1000 }), days: Type.Integer({ minimum: 1, maximum: 365 }) },
  { additionalProperties: false, description: 'at most `max` messages of this purpose to one contact in any `days` days' },
);
export type FrequencyCap = Static<typeof FrequencyCap>;
const Purpose = Type.String({ minLength: 1, maxLength: 32, pattern: '^[a-z][a-z0-9_-]*$' });

export const BusinessSettings = Type.Object(
  {
    quiet_hours: Type.Union([QuietHours, Type.Null()]),
    frequency_caps: Type.Record(Purpose, FrequencyCap),
    agents_may_export: Type.Boolean({ description: 'whether agents may export contacts (owners and admins always may)' }),
    default_locale: Type.String({ minLength: 2, maxLength: 35 }),
    default_time_zone: Type.String({ minLength: 1, maxLength: 64, description: 'IANA time zone, for contacts without one' }),
  },
  { additionalProperties: false },
);
export type BusinessSettings = Static<typeof BusinessSettings>;
export const DEFAULT_BUSINESS_SETTINGS: BusinessSettings = {
  quiet_hours: { start: '21:00', end: '08:00' },
  frequency_caps: { marketing: { max: 2, days: 7 } },
  agents_may_export: false,
  default_locale: 'en',
  default_time_zone: 'UTC',
};

/** What anyone signed in sees of a business: its name, photo and the operator's verified mark. */
export const BusinessProfile = Type.Object({
  id: Type.String(),
  handle: Type.String(),
  display_name: Type.String(),
  about: Type.Union([Type.String(), Type.Null()]),
  avatar_media_id: Type.Union([Type.String(), Type.Null()]),
  verified: Type.Boolean({ description: 'set by the instance operator after checking who the business is' }),
});
export type BusinessProfile = Static<typeof BusinessProfile>;

/** GET /v1/business: the business the caller acts for, its settings and the caller's role. */
export const BusinessSelf = Type.Object({ business: BusinessProfile, settings: BusinessSettings, role: BusinessRole });
export type BusinessSelf = Static<typeof BusinessSelf>;

export const UpdateBusinessBody = Type.Object(
  {
    display_name: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    about: Type.Optional(Type.Union([Type.String({ maxLength: 280 }), Type.Null()])),
    avatar_media_id: Type.Optional(Type.Union([Type.String({ minLength: 1, maxLength: 64 }), Type.Null()])),
    settings: Type.Optional(Type.Partial(BusinessSettings)),
  },
  { additionalProperties: false },
);
export type UpdateBusinessBody = Static<typeof UpdateBusinessBody>;

export const BusinessMember = Type.Object({
  account_id: Type.String(),
  handle: Type.String(),
  role: BusinessRole,
  added_at: Millis,
  /** The business account itself: always the owner, cannot be removed. */
  is_business: Type.Boolean(),
});
export type BusinessMember = Static<typeof BusinessMember>;
export const BusinessMemberList = Type.Object({ members: Type.Array(BusinessMember) });
export type BusinessMemberList = Static<typeof BusinessMemberList>;
export const PutMemberBody = Type.Object({ role: BusinessRole }, { additionalProperties: false });
export type PutMemberBody = Static<typeof PutMemberBody>;

/** GET /v1/me/businesses: the businesses a person works for. */
export const MyBusinesses = Type.Object({ businesses: Type.Array(Type.Object({ business: BusinessProfile, role: BusinessRole })) });
export type MyBusinesses = Static<typeof MyBusinesses>;

export const SetVerifiedBody = Type.Object({ verified: Type.Boolean() }, { additionalProperties: false });
export type SetVerifiedBody = Static<typeof SetVerifiedBody>;

