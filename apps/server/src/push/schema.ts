/** The tables the push capability owns (Kysely types). Times are Unix milliseconds. */

/**
 * One browser push subscription of one signed-in device. It lives as long as the device's
 * session: a push first checks the device is still signed in, and deletes it when not.
 */
export interface PushSubscriptionsTable {
  id: string;
  account_id: string;
  device_id: string;
  /** The push service URL (a capability: whoever holds it can push to the browser). */
  endpoint: string;
  /** The browser's P-256 public key and auth secret (base64url): the payload is encrypted to them. */
  p256dh: string;
  auth: string;
  /** 1: pushes carry the sender and the start of the text; 0: ids and a count only. */
  previews: number;
  /** When the browser said the subscription lapses; null: never. */
  expires_at: number | null;
  created_at: number;
}

export interface PushTables {
  push_subscriptions: PushSubscriptionsTable;
}
