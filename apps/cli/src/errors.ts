/**
 * How the CLI fails. Expected failures (the server said no, not signed in, bad usage) print one
 * line and exit with a fixed code so scripts can branch on it; only bugs print a stack trace.
 */
import { MmdError } from '@mmd/sdk';

/** Bad arguments or options: exit 2, like commander's own usage errors. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** An expected failure the CLI finds itself (not signed in, no database), reported like a server error. */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** Prints `err` to stderr and returns the exit code. */
export function report(err: unknown): number {
  const line = (s: string) => process.stderr.write(`${s}\n`);
  if (err instanceof MmdError) {
    // The server's detail already lists every invalid field, so one line says it all.
    line(`error: ${err.message} (${err.code})`);
    return 1;
  }
  if (err instanceof CliError) {
    line(`error: ${err.message} (${err.code})`);
    return err.exitCode;
  }
  if (err instanceof UsageError) {
    line(`error: ${err.message}`);
    return 2;
  }
  // The server's AppError, thrown by the offline commands; matched by name so this file does not
  // load the server package.
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && err.name === 'AppError' && typeof code === 'string') {
    line(`error: ${err.message} (${code})`);
    return 1;
  }
  line(`mmd: unexpected failure (a bug; please report it):`);
  line(err instanceof Error ? (err.stack ?? err.message) : String(err));
  return 1;
}
