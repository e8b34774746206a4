import type { ErrorCode, Problem } from '@mmd/contracts';

/** An error answer from the MMD server, carrying its stable `code`. */
export class MmdError extends Error {
  readonly status: number;
  readonly code: ErrorCode | 'network_error';
  readonly problem: Problem | null;

  constructor(status: number, problem: Problem | null, fallback: string) {
    super(problem?.detail ?? fallback);
    this.name = 'MmdError';
    this.status = status;
    this.code = problem?.code ?? 'network_error';
    this.problem = problem;
  }
}
