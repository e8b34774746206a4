/**
 * MMD's password rule (NIST SP 800-63B style): long enough, not the handle, and not a common
 * password or a simple variation of one. "Common" is judged by zxcvbn-ts with its bundled lists
 * of leaked passwords, words and names and its keyboard-pattern, repeat, sequence, date and l33t
 * detection: a password it expects to fall within 10^6 guesses (its score 0 or 1) is refused,
 * which covers `password123`, `Password123!`, `qwertyuiop`, `1234567890` and `p@ssw0rd12`.
 */
import { PASSWORD_MIN_LENGTH } from '@mmd/contracts';
import { ZxcvbnFactory } from '@zxcvbn-ts/core';
import { adjacencyGraphs, dictionary } from '@zxcvbn-ts/language-common';
import { AppError } from '../errors.ts';

/** zxcvbn's score 2 means "somewhat guessable": at least 10^6 guesses, enough against online guessing. */
const MIN_SCORE = 2;

// Built on first use: loading the dictionaries takes ~100 ms, which the server pays once.
let estimator: ZxcvbnFactory | null = null;

/** Why `password` is refused for `handle`, or null when it meets the rule. */
export function passwordProblem(password: string, handle: string): string | null {
  if ([...password].length < PASSWORD_MIN_LENGTH) return `Use at least ${PASSWORD_MIN_LENGTH} characters.`;
  if (password.trim().toLowerCase() === handle.toLowerCase()) return 'The password cannot be your handle.';
  estimator ??= new ZxcvbnFactory({ dictionary, graphs: adjacencyGraphs });
  // zxcvbn's matching time grows faster than the length, so only the first 100 characters are
  // scored: a 256-character password cannot stall sign-up.
  const { score } = estimator.check(password.slice(0, 100), [handle]);
  if (score < MIN_SCORE)
    return 'This password is too common or too easy to guess (a known password, a word with digits, a keyboard pattern or a repeat).';
  return null;
}

/** Throws `weak_password` (400) when `password` breaks the rule. */
export function assertPasswordAllowed(password: string, handle: string): void {
  const problem = passwordProblem(password, handle);
  if (problem)
    throw new AppError('weak_password', problem, { errors: [{ path: '/password', message: problem }] });
}
