/**
 * Stable, snake_case error codes. Callers (HTTP layer, remote workers) switch on these, so they are part
 * of the public contract: add new ones, never rename.
 */
export type MediaErrorCode =
  /** The input has zero bytes. */
  | 'empty_file'
  /** The content is not a type this library handles (or not one the operation accepts). */
  | 'unsupported_type'
  /** The content claims a known type but cannot be parsed or decoded. */
  | 'corrupt_file'
  /** Width × height (or a single dimension) exceeds the configured limit. */
  | 'too_many_pixels'
  /** Duration exceeds the configured limit. */
  | 'too_long'
  /** The input file is larger than the configured byte limit. */
  | 'too_large'
  /** No accepted output type can fit in the byte budget. */
  | 'budget_unreachable'
  /** An operation ran past its time limit and was killed. */
  | 'timeout'
  /** The caller aborted the operation through its AbortSignal. */
  | 'aborted'
  /** ffmpeg or ffprobe could not be found or made executable. */
  | 'binary_missing'
  /** A helper process failed for a reason not attributable to the input. */
  | 'process_failed'
  /** The options object is inconsistent (e.g. negative budget). */
  | 'invalid_options';

/** Every code, for exhaustive checks and documentation. */
export const MEDIA_ERROR_CODES: readonly MediaErrorCode[] = [
  'empty_file',
  'unsupported_type',
  'corrupt_file',
  'too_many_pixels',
  'too_long',
  'too_large',
  'budget_unreachable',
  'timeout',
  'aborted',
  'binary_missing',
  'process_failed',
  'invalid_options',
];

/**
 * The only error type this package throws on purpose. `details` carries machine-readable context
 * (limits, measured values) that is safe to show to the uploader; `cause` keeps the low-level error for logs.
 */
export class MediaError extends Error {
  /** Stable snake_case code. */
  readonly code: MediaErrorCode;
  /** Machine-readable context, e.g. `{ limit: 100_000_000, actual: 2_500_000_000 }`. */
  readonly details: Readonly<Record<string, unknown>>;

  /**
   * @param code stable error code
   * @param message human-readable explanation (English, for logs)
   * @param options optional details and underlying cause
   */
  constructor(
    code: MediaErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MediaError';
    this.code = code;
    this.details = options.details ?? {};
  }
}

/**
 * Type guard that also narrows by code.
 * @param error anything caught
 * @param code when given, also require this code
 */
export function isMediaError(error: unknown, code?: MediaErrorCode): error is MediaError {
  return error instanceof MediaError && (code === undefined || error.code === code);
}

/**
 * Throws `aborted` if the signal has fired; called between steps of in-process (sharp) work, which
 * cannot be killed midway like a child process.
 * @param signal optional abort signal
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new MediaError('aborted', 'operation aborted');
}
