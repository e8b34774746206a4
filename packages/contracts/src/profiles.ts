/**
 * Who people are: a display name, an "about" line and a profile photo beside each handle; online
 * and last-seen presence; finding people by handle or name. What a viewer may see of another
 * person follows that person's privacy settings (privacy.ts), so the same profile reads
 * differently to different viewers.
 */
import { type Static, Type } from 'typebox';

const Millis = Type.Integer({ minimum: 0, description: 'Unix time in milliseconds' });

/** Longest display name, in Unicode code points (after trimming and NFC normalisation). */
export const MAX_DISPLAY_NAME = 64;
/** Longest "about" line, in Unicode code points. */
export const MAX_ABOUT = 140;

/**
 * No control characters (C0, C1, DEL) and no bidirectional overrides or isolates, which can make
 * a name read as something else (`‮` turns "evil" around). Emoji sequences (ZWJ, variation
 * selectors) stay allowed. Checked with the `u` flag, so it counts code points.
 */
const PRINTABLE = '^[^\\p{Cc}\\u202A-\\u202E\\u2066-\\u2069\\u2028\\u2029]*$';

export const UpdateProfileBody = Type.Object(
  {
    display_name: Type.Optional(
      Type.Union([Type.String({ maxLength: MAX_DISPLAY_NAME, pattern: PRINTABLE }), Type.Null()], {
        description: `Up to ${MAX_DISPLAY_NAME} characters, trimmed; null or "" clears it (others see the handle)`,
      }),
    ),
    about: Type.Optional(
      Type.Union([Type.String({ maxLength: MAX_ABOUT, pattern: PRINTABLE }), Type.Null()], {
        description: `Up to ${MAX_ABOUT} characters, trimmed; null or "" clears it`,
      }),
    ),
  },
  { additionalProperties: false },
);
export type UpdateProfileBody = Static<typeof UpdateProfileBody>;

/** The sizes a profile photo is made in (square, pixels on a side; smaller sources are not enlarged). */
export const PROFILE_PHOTO_SIZES = { small: 96, medium: 320, large: 640 } as const;
export type ProfilePhotoSize = keyof typeof PROFILE_PHOTO_SIZES;

export const ProfilePhoto = Type.Object({
  id: Type.String({ description: 'changes with every new photo' }),
  /** Tiny blurred WebP as a data URL, to show while a size loads. */
  placeholder: Type.String(),
  average_color: Type.String({ description: '#rrggbb' }),
  /** Signed URLs for this viewer (no bearer token needed, so an <img> can load them), valid for a while. */
  urls: Type.Object({ small: Type.String(), medium: Type.String(), large: Type.String() }),
});
export type ProfilePhoto = Static<typeof ProfilePhoto>;

export const Profile = Type.Object({
  account_id: Type.String(),
  handle: Type.String(),
  kind: Type.Enum(['person', 'bot', 'business']),
  display_name: Type.Union([Type.String(), Type.Null()]),
  about: Type.Union([Type.String(), Type.Null()]),
  /** Null when there is none, or when its owner shows it only to others. */
  photo: Type.Union([ProfilePhoto, Type.Null()]),
  updated_at: Millis,
});
/** A person as a viewer may see them: the photo follows its owner's `photo` privacy setting. */
export type Profile = Static<typeof Profile>;

export const ProfileList = Type.Object({ profiles: Type.Array(Profile) });
export type ProfileList = Static<typeof ProfileList>;

/** Shortest query `GET /v1/people` accepts: short prefixes would page through the directory. */
export const MIN_PEOPLE_QUERY = 3;
/** Most results `GET /v1/people` gives. */
export const MAX_PEOPLE_RESULTS = 10;

export const PeopleQuery = Type.Object(
  {
    q: Type.String({ minLength: MIN_PEOPLE_QUERY, maxLength: 64, pattern: PRINTABLE, description: `a prefix of a handle or of a word of a display name, at least ${MIN_PEOPLE_QUERY} characters` }),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PEOPLE_RESULTS })),
  },
  { additionalProperties: false },
);
export type PeopleQuery = Static<typeof PeopleQuery>;

export const ProfilesQuery = Type.Object(
  { ids: Type.String({ minLength: 1, maxLength: 100 * 40, description: 'comma-separated account ids (at most 100)' }) },
  { additionalProperties: false },
);
export type ProfilesQuery = Static<typeof ProfilesQuery>;

export const Presence = Type.Object({
  account_id: Type.String(),
  /** Null when hidden from you (their setting, or yours: hiding yours hides everyone's from you). */
  online: Type.Union([Type.Boolean(), Type.Null()]),
  last_seen_at: Type.Union([Millis, Type.Null()]),
});
/** Whether someone is online now, or when they last were, as far as privacy settings allow. */
export type Presence = Static<typeof Presence>;
export const PresenceList = Type.Object({ presence: Type.Array(Presence) });
export type PresenceList = Static<typeof PresenceList>;
