/**
 * Every error MMD answers with has one of these stable, snake_case codes. Clients branch on the
 * code, never on the human message. The HTTP status for each lives in one table on the server.
 */
export const ERROR_CODES = [
  'validation_failed',
  'malformed_json',
  'invalid_utf8',
  'body_too_large',
  'upload_too_large',
  'budget_unreachable',
  'range_not_satisfiable',
  'link_expired',
  'uri_too_long',
  'upgrade_required',
  'unsupported_media_type',
  /** A profile photo that is not an image MMD can read (or is too large in pixels). */
  'invalid_image',
  'unauthenticated',
  'invalid_credentials',
  /** A device token unused for longer than the server's idle limit: sign in again. */
  'session_expired',
  /** A new password breaks the rule (PASSWORD_RULE): too short, the handle, or too common. */
  'weak_password',
  'forbidden',
  'insufficient_scope',
  /** A route for bot tokens only (a person's session or key was used). */
  'bot_only',
  /** A route reserved for people (a bot token, or a bot account, was used). */
  'person_only',
  'not_found',
  'route_not_found',
  'method_not_allowed',
  'handle_taken',
  'conflict',
  /** A webhook delivery withdrawn before it went out (its message is gone, or the account left the conversation): never sent again. */
  'delivery_withdrawn',
  'not_a_member',
  'already_member',
  'limit_reached',
  /** A sixth pinned chat: unpin one first (MAX_PINNED_CHATS). */
  'pin_limit',
  'rate_limited',
  'forward_limit',
  /** Sharing something spreading fast needs the sender's confirmation (`confirm_spread: true`); nothing was sent. */
  'confirmation_required',
  'daily_limit_reached',
  'daily_capacity_reached',
  'message_deleted',
  'cursor_expired',
  /** An invitation older than a week, or whose sender can no longer add people. */
  'invitation_expired',
  /** An invite link that does not open anything: unknown, revoked, expired or full alike (no oracle). */
  'invite_not_found',
  /** Removed from this group or channel by an admin: no rejoining by link or handle until unbanned. */
  'banned',
  /** Interactive content over a limit (INTERACTIVE_LIMITS); the detail names the limit. */
  'interactive_limit',
  /** Buttons, quick replies, lists, cards and forms are sent by bot and business accounts only. */
  'interactive_not_allowed',
  /** A vote on a poll that has closed (by hand or at its closes_at). */
  'poll_closed',
  /** Answers to a form that has closed. */
  'form_closed',
  /** A callback query is answered once. */
  'callback_answered',
  /** A callback query too old to answer (the person stopped waiting). */
  'callback_expired',
  /** Automation is for business accounts: persons and bots get 403. */
  'business_only',
  /** An automation limit (rules, templates per business): the detail names it. */
  'automation_limit',
  /** A business endpoint called without saying which business (header `x-mmd-business`). */
  'business_required',
  /** A template uses variables it does not declare (and that are not contact fields); the detail names them. */
  'unknown_variables',
  /** A template could not be rendered for this recipient (a missing variable, a bad value); the detail says why. */
  'template_render_failed',
  /** Only approved template versions are sent. */
  'template_not_approved',
  /** Not a BCP 47 locale (contacts, imports). */
  'invalid_locale',
  /** Not an IANA time zone name (contacts, imports). */
  'invalid_time_zone',
  /** Not a valid phone number (E.164 after normalising). */
  'invalid_phone',
  /** An opt-in recorded for someone else without proof of their consent (wording, time, evidence). */
  'consent_proof_required',
  /** The contact was erased on request (GDPR Art. 17): it cannot be changed or messaged. */
  'contact_erased',
  /** An import's per-row error report, deleted once its retention ended (the import's counts remain). */
  'report_expired',
  /** A segment rule that cannot be used (unknown attribute, wrong type, empty rule…): each problem at its path. */
  'invalid_segment',
  /** A contact import that cannot be read at all (encoding, structure, header): the detail says why. */
  'invalid_import',
  /** A campaign scheduled for a time already past (for a local-time schedule: past in some time zone). */
  'schedule_in_past',
  /** A recurring campaign whose cron expression never fires again. */
  'schedule_never_fires',
  /** A campaign whose audience has nobody in it. */
  'audience_empty',
  /** A campaign action its state does not allow (start a completed campaign, resume a running one). */
  'campaign_state',
  /** Federation: a request or response without a valid RFC 9421 signature by the peer's key (forged, malformed, or not signed). */
  'signature_invalid',
  /** Federation: a signature by a key no connected peer has. */
  'unknown_key',
  /** Federation: a signature created outside the accepted window (clock skew or a replay). */
  'signature_expired',
  /** Federation: the body does not match its Content-Digest (altered in transit). */
  'digest_mismatch',
  /** Federation: a nonce or message id this instance has already accepted from that peer. */
  'message_replayed',
  /** Federation: the peer's well-known document could not be fetched or read. */
  'peer_unreachable',
  'internal_error',
  'unavailable',
] as const;

/** A stable error code carried in every problem+json body as `code`. */
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The body of every error response (RFC 9457 problem details plus MMD's `code`). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail?: string;
  /** Validation failures list every problem found, not just the first. */
  errors?: { path: string; message: string }[];
  request_id?: string;
}
