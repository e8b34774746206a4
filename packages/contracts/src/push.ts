/**
 * Web Push (RFC 8030 with VAPID, RFC 8292, and aes128gcm payloads, RFC 8291): a device registers
 * the subscription its browser made, and the server pushes to it while the app is closed.
 */
import { type Static, Type } from 'typebox';

/** Subscriptions one device may keep (a browser profile makes one; a few cover reinstalls). */
export const MAX_PUSH_SUBSCRIPTIONS_PER_DEVICE = 3;
/** Subscriptions one account may keep over all its devices. */
export const MAX_PUSH_SUBSCRIPTIONS_PER_ACCOUNT = 20;
/** Longest endpoint URL accepted (browsers' push services use well under 500 characters). */
export const MAX_PUSH_ENDPOINT_LENGTH = 1024;
/** Characters of a message's text a preview carries, when the person asked for previews. */
export const PUSH_PREVIEW_CHARS = 140;

/** The server's VAPID public key (uncompressed P-256 point, base64url): the browser's applicationServerKey. */
export const PushVapidKey = Type.Object({ public_key: Type.String() }, { additionalProperties: false });
export type PushVapidKey = Static<typeof PushVapidKey>;

const B64Url = (minLength: number, maxLength: number) => Type.String({ minLength, maxLength, pattern: '^[A-Za-z0-9_-]+={0,2}$' });

/** What `PushSubscription.toJSON()` gives, plus whether pushes may carry a preview of the message. */
export const CreatePushSubscriptionBody = Type.Object(
  {
    endpoint: Type.String({ minLength: 1, maxLength: MAX_PUSH_ENDPOINT_LENGTH }),
    /** When the browser says the subscription lapses (ms since the epoch); null or absent: never. */
    expirationTime: Type.Optional(Type.Union([Type.Null(), Type.Integer({ minimum: 0 })])),
    keys: Type.Object(
      {
        /** The browser's P-256 public key: 65 bytes, base64url. */
        p256dh: B64Url(86, 90),
        /** The shared authentication secret: 16 bytes, base64url. */
        auth: B64Url(21, 26),
      },
      { additionalProperties: false },
    ),
    /** Pushes carry the sender and the first characters of the text (off: ids and a count only). */
    previews: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CreatePushSubscriptionBody = Static<typeof CreatePushSubscriptionBody>;

export const PushSubscriptionView = Type.Object(
  {
    id: Type.String(),
    /** Only the push service's origin: the full endpoint is a capability, not shown back. */
    endpoint_origin: Type.String(),
    device_id: Type.String(),
    previews: Type.Boolean(),
    created_at: Type.Integer(),
  },
  { additionalProperties: false },
);
export type PushSubscriptionView = Static<typeof PushSubscriptionView>;

export const PushSubscriptionList = Type.Object({ subscriptions: Type.Array(PushSubscriptionView) }, { additionalProperties: false });
export type PushSubscriptionList = Static<typeof PushSubscriptionList>;

/**
 * What a push carries, decrypted on the device. By default no content: which chat and message,
 * and the person's unread total (for the badge); the service worker fetches the text itself with
 * the device's credentials. `preview` only when the subscription asked for previews.
 */
export interface PushPayload {
  v: 1;
  type: 'message';
  conversation_id: string;
  message_id: string;
  /** Unread messages over all the person's chats (muted ones included), for the app badge. */
  unread: number;
  /** Sent because the person was mentioned (it broke through a mute). */
  mention?: true;
  preview?: { sender: string; text: string };
}
