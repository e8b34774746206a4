/** Argument parsers for commander; a bad value is a usage error (exit 2), caught before any request. */
import { InvalidArgumentError } from 'commander';

export function integerIn(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(
        `expected a whole number from ${min} to ${max === Number.MAX_SAFE_INTEGER ? 'up' : max}`,
      );
    }
    return n;
  };
}
