/**
 * Telegram's error shape: `{ok: false, error_code, description, parameters?}` with the HTTP status
 * equal to error_code, and descriptions worded as the Bot API words them ("Bad Request: chat not
 * found"), since bots match on them. MMD's own refusals (AppError) are translated here.
 */
import type { AppError } from '../errors.ts';

export class TelegramError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: { retry_after?: number; migrate_to_chat_id?: number },
  ) {
    super(description);
    this.name = 'TelegramError';
  }

  toJSON() {
    return { ok: false, error_code: this.errorCode, description: this.description, ...(this.parameters ? { parameters: this.parameters } : {}) };
  }
}

export const badRequest = (what: string) => new TelegramError(400, `Bad Request: ${what}`);
export const forbidden = (what: string) => new TelegramError(403, `Forbidden: ${what}`);
export const unauthorized = () => new TelegramError(401, 'Unauthorized');
export const notFound = () => new TelegramError(404, 'Not Found');
export const chatNotFound = () => badRequest('chat not found');
export const messageNotFound = (what = 'message') => badRequest(`${what} not found`);

/** MMD's refusal as Telegram would word it. Anything else is a bug: the caller logs it and answers 500. */
export function fromAppError(err: AppError, context: { subject?: 'chat' | 'message' } = {}): TelegramError {
  const detail = err.message;
  switch (err.code) {
    case 'not_found':
      return context.subject === 'chat' ? chatNotFound() : badRequest(detail);
    case 'not_a_member':
      return context.subject === 'message' ? messageNotFound() : forbidden('bot is not a member of the chat');
    case 'forbidden':
    case 'insufficient_scope':
      // The person blocked the bot: Telegram's words, which bots match to stop writing to them.
      if (detail.includes('does not accept messages from you')) return forbidden('bot was blocked by the user');
      return forbidden(detail);
    case 'unauthenticated':
    case 'invalid_credentials':
    case 'session_expired':
      return unauthorized();
    case 'message_deleted':
      return messageNotFound();
    case 'rate_limited':
    case 'forward_limit':
    case 'daily_limit_reached':
    case 'daily_capacity_reached': {
      const retry = Number(err.extra.headers?.['retry-after'] ?? /retry in (\d+)/.exec(detail)?.[1] ?? 1);
      return new TelegramError(429, `Too Many Requests: retry after ${retry}`, { retry_after: retry });
    }
    case 'upload_too_large':
    case 'body_too_large':
      return new TelegramError(413, 'Request Entity Too Large');
    case 'conflict':
      return badRequest(detail);
    default:
      return err.status < 500 ? badRequest(detail) : new TelegramError(500, 'Internal Server Error');
  }
}
