// For the API client tests: every ApiError a test provokes is kept, and at the end none of them,
// nor any call the fake recorded, may contain a secret (token, password, API key).
import { expect } from 'vitest';
import { ApiError } from '../../src/errors.js';

export class LeakCheck {
  private readonly thrown: unknown[] = [];

  /** Run `p`, expect an ApiError, keep it for check(). */
  async apiError(p: Promise<unknown>): Promise<ApiError> {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    this.thrown.push(err);
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }

  /** At least `minErrors` errors were seen, and no error text, error JSON or recorded call holds a secret. */
  check(secrets: string[], recordedCalls: unknown, minErrors: number): void {
    expect(this.thrown.length).toBeGreaterThan(minErrors);
    for (const e of this.thrown) {
      const text = `${(e as Error).message} ${JSON.stringify(e)} ${String(e)}`;
      for (const s of secrets) expect(text).not.toContain(s);
    }
    const calls = JSON.stringify(recordedCalls);
    for (const s of secrets) expect(calls).not.toContain(s);
  }
}
