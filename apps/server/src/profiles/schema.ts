/** The tables the profiles capability owns (Kysely types). Times are Unix milliseconds. */

/** One row per account that has set anything; no row means no name, about line or photo. */
export interface ProfilesTable {
  account_id: string;
  display_name: string | null;
  about: string | null;
  /** Changes with every new photo; the photo's signed URLs name it, so a replaced photo's links die. */
  photo_id: string | null;
  /** JSON of media's StoredProfilePhoto (blob keys by size and format, placeholder), or null. */
  photo: string | null;
  updated_at: number;
}

/**
 * The words of display names, folded (profiles/words.ts), for people search by name prefix. On
 * PostgreSQL the column sorts bytewise (`collate "C"`), so a prefix range is exact on both.
 */
export interface ProfileWordsTable {
  word: string;
  account_id: string;
}

/** When each account was last online (presence's "last seen"), and until when a process vouches it still is. */
export interface PresenceTable {
  account_id: string;
  last_seen_at: number;
  /** Set while a process holds one of its streams (re-asserted by heartbeat); null once they all closed. */
  online_until: number | null;
}

export interface ProfilesTables {
  profiles: ProfilesTable;
  profile_words: ProfileWordsTable;
  presence: PresenceTable;
}
