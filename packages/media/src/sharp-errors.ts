import { MediaError } from './errors.ts';

/**
 * Translates a libvips/sharp failure into a typed {@link MediaError}. sharp only gives free-text
 * messages, so this matches the stable phrases libvips has used for years.
 * @param error what sharp threw
 * @param context short description for the message, e.g. "decoding image"
 */
export function sharpError(error: unknown, context: string): MediaError {
  if (error instanceof MediaError) return error;
  // libvips may report several lines (e.g. "Warning treated as error…\nerror in tile 0 x 24",
  // depending on which of its threads fails first): a reason shown to users stays on one line.
  const message = (error instanceof Error ? error.message : String(error)).trim().replace(/\s*\n\s*/g, '; ');
  if (/pixel limit/i.test(message)) {
    return new MediaError('too_many_pixels', `${context}: image exceeds the pixel limit`, { cause: error });
  }
  if (/timeout/i.test(message)) return new MediaError('timeout', `${context}: timed out`, { cause: error });
  if (
    /no decoding plugin|unsupported (codec|feature)|compression format .* not supported|heif: Unsupported/i.test(
      message,
    )
  ) {
    return new MediaError('unsupported_type', `${context}: no decoder for this image variant`, {
      cause: error,
    });
  }
  return new MediaError('corrupt_file', `${context}: ${message}`, { cause: error });
}
