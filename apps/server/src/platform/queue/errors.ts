/**
 * Thrown by a handler to say "retrying cannot help" (a corrupt upload, a payload that no longer
 * makes sense): the job fails at once instead of using up its attempts.
 */
export class PermanentJobError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentJobError';
  }
}

/** The abort reason a handler sees when its worker lost the job to another. */
export class LeaseLostError extends Error {
  constructor(jobId: string) {
    super(`lease on job ${jobId} was lost`);
    this.name = 'LeaseLostError';
  }
}
