// The error family: one base, each kind with its documented exit code, matched with instanceof.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApiError, ConfigError, ExitError, isPromptAbort, MailsweepError, StepError, TransportError } from '../src/errors.js';
import { classifySshError } from '../src/transport/errors.js';

describe('error family', () => {
  it('each kind is a MailsweepError with the exit code the README documents', () => {
    const cases: [MailsweepError, number, string][] = [
      [new ConfigError('inventory.yaml:3: mta: "exm" is not one of …'), 3, 'error: inventory.yaml:3: mta: "exm" is not one of …'],
      [new StepError('confirm.purge — an unattended run never answers yes'), 1, 'confirm.purge — an unattended run never answers yes'],
      [new TransportError('hostkey-changed', 'mx1: host key changed'), 2, 'hostkey-changed: mx1: host key changed'],
      [new ApiError('auth', 'getdomainowner: WHM refused the token', { service: 'whm' }), 3, 'getdomainowner: WHM refused the token'],
      [new ExitError(3, 'another run holds the lock'), 3, 'another run holds the lock'],
      [new ExitError(130), 130, ''],
    ];
    for (const [e, code, line] of cases) {
      expect(e).toBeInstanceOf(MailsweepError);
      expect(e).toBeInstanceOf(Error);
      expect(e.exitCode).toBe(code);
      expect(e.headline()).toBe(line);
    }
  });

  it('keeps the names and fields JSON output and journals show', () => {
    const e = new ApiError('network', 'x: cannot reach', { service: 'smtp', code: 'ECONNREFUSED' });
    expect(e.name).toBe('ApiError');
    expect(e.toJSON()).toMatchObject({ name: 'ApiError', kind: 'network', code: 'ECONNREFUSED', timedOut: false });
    expect(new ExitError(2).code).toBe(2);
  });

  it('ssh errors translated at the edge are TransportErrors', () => {
    const e = classifySshError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:22'), { code: 'ECONNREFUSED' }), 'mx1', 10_000);
    expect(e).toBeInstanceOf(TransportError);
    expect(e.kind).toBe('unreachable');
  });

  it('Ctrl-C at a prompt is recognised by the name Inquirer gives it, and nothing else is', () => {
    class ExitPromptError extends Error {
      override name = 'ExitPromptError';
    }
    expect(isPromptAbort(new ExitPromptError('User force closed the prompt'))).toBe(true);
    expect(isPromptAbort(new Error('ExitPromptError'))).toBe(false);
    expect(isPromptAbort({ name: 'ExitPromptError' })).toBe(false);
  });

  it('src matches its own errors with instanceof, never by name', () => {
    const own = /\.name\s*[!=]==?\s*'(ConfigError|ExitError|StepError|TransportError|ApiError)'/;
    const files = (readdirSync('src', { recursive: true }) as string[]).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(50);
    const offenders = files.filter((f) => own.test(readFileSync(join('src', f), 'utf8')));
    expect(offenders).toEqual([]);
  });
});
