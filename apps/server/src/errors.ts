/**
 * One error type for everything MMD refuses on purpose, and one table from its stable code to the
 * HTTP status. Anything thrown that is not an AppError is a bug: it is logged with the request id
 * and answered as `internal_error` with no detail.
 */
import type { ErrorCode } from '@mmd/contracts';

export const HTTP_STATUS: Record<ErrorCode, number> = {
  validation_failed: 400,
  malformed_json: 400,
  invalid_utf8: 400,
  body_too_large: 413,
  upload_too_large: 413,
  budget_unreachable: 422,
  range_not_satisfiable: 416,
  link_expired: 403,
  uri_too_long: 414,
  upgrade_required: 426,
  unsupported_media_type: 415,
  invalid_image: 422,
  unauthenticated: 401,
  invalid_credentials: 401,
  session_expired: 401,
  weak_password: 400,
  forbidden: 403,
  insufficient_scope: 403,
  bot_only: 403,
  person_only: 403,
  not_a_member: 403,
  not_found: 404,
  route_not_found: 404,
  method_not_allowed: 405,
  handle_taken: 409,
  conflict: 409,
  delivery_withdrawn: 409,
  already_member: 409,
  limit_reached: 409,
  pin_limit: 409,
  message_deleted: 410,
  cursor_expired: 410,
  invitation_expired: 410,
  invite_not_found: 404,
  banned: 403,
  rate_limited: 429,
  /** Forwarding one message to more chats a minute than allowed (messaging/forward-limits.ts). */
  forward_limit: 429,
  /** Sharing media that is spreading fast, without `confirm_spread` (messaging/spread-velocity.ts). */
  confirmation_required: 428,
  /** This address used its daily allowance of an anonymous endpoint (hash-only protection). */
  daily_limit_reached: 429,
  /** The server-wide daily allowance of an anonymous endpoint is used up. */
  daily_capacity_reached: 429,
  interactive_limit: 400,
  interactive_not_allowed: 403,
  poll_closed: 409,
  form_closed: 409,
  callback_answered: 409,
  callback_expired: 410,
  business_only: 403,
  automation_limit: 400,
  business_required: 400,
  unknown_variables: 400,
  template_render_failed: 422,
  template_not_approved: 409,
  invalid_locale: 400,
  invalid_time_zone: 400,
  invalid_phone: 400,
  consent_proof_required: 400,
  contact_erased: 410,
  report_expired: 410,
  invalid_segment: 400,
  invalid_import: 400,
  schedule_in_past: 400,
  schedule_never_fires: 400,
  audience_empty: 400,
  campaign_state: 409,
  signature_invalid: 401,
  unknown_key: 401,
  signature_expired: 401,
  digest_mismatch: 400,
  message_replayed: 409,
  peer_unreachable: 422,
  internal_error: 500,
  unavailable: 503,
};

export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly extra: { errors?: { path: string; message: string }[]; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }
}

export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const forbidden = (why: string) => new AppError('forbidden', why);
