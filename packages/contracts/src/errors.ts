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
  'unauthenticated',
  'invalid_credentials',
  'forbidden',
  'insufficient_scope',
  'not_found',
  'route_not_found',
  'method_not_allowed',
  'handle_taken',
  'conflict',
  'not_a_member',
  'already_member',
  'limit_reached',
  'rate_limited',
  'message_deleted',
  'cursor_expired',
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
