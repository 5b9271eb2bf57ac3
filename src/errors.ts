// The one family of expected errors, each with its exit code; anything else reaching the top
// level is a bug. This module imports nothing, so every layer can throw these.

/** Exit codes shared by the commands (README: scan's and incident's tables). */
export const EXIT = { failed: 1, connection: 2, unknown: 3, aborted: 130 } as const;

/** Base of every error mailsweep expects: cli.ts prints `headline()` and exits with `exitCode`. */
export abstract class MailsweepError extends Error {
  abstract readonly exitCode: number;

  /** The line after "mailsweep: " at the top level; empty prints nothing. */
  headline(): string {
    return this.message;
  }
}

/** Invalid user input: inventory, flags, playbook, answers, config. Exit 3 ("could not run"). */
export class ConfigError extends MailsweepError {
  override name = 'ConfigError';
  readonly exitCode = EXIT.unknown;

  override headline(): string {
    return `error: ${this.message}`;
  }
}

/** Ends the process with a given exit code after printing the message (if any). */
export class ExitError extends MailsweepError {
  override name = 'ExitError';
  readonly exitCode: number;
  constructor(
    readonly code: number,
    message = '',
  ) {
    super(message);
    this.exitCode = code;
  }
}

/** A playbook step refused before anything destructive: the run stops with this message. Exit 1. */
export class StepError extends MailsweepError {
  override name = 'StepError';
  readonly exitCode = EXIT.failed;
}

// -- TransportError -- //

export type TransportErrorKind = 'unreachable' | 'auth-failed' | 'hostkey-unknown' | 'hostkey-changed' | 'timeout' | 'error';

/**
 * A connection failure; `kind` is the host's status word in the scan report. Scan turns it into
 * that status; reaching the top level (incident) it exits 2 and names the word.
 */
export class TransportError extends MailsweepError {
  override name = 'TransportError';
  readonly exitCode = EXIT.connection;
  constructor(
    readonly kind: TransportErrorKind,
    message: string,
  ) {
    super(message);
  }

  override headline(): string {
    return `${this.kind}: ${this.message}`;
  }
}

// -- ApiError -- //
// Messages are built by our code from status codes and the API's own error texts, then redacted:
// they never carry tokens, secrets or passwords, and no raw `cause` is attached (a cause could
// hold request options with headers).

export type ApiErrorKind = 'auth' | 'not-found' | 'api' | 'network' | 'tls';
export type ApiService = 'whm' | 'whmcs' | 'smtp';

export interface ApiErrorDetails {
  service: ApiService;
  /** The API function / action, e.g. "getdomainowner", "Email::passwd_pop", "SendEmail". */
  call?: string;
  /** HTTP status (or SMTP reply code) when there was one. */
  status?: number;
  /** The API's own error strings (UAPI `errors`, WHM `metadata.reason`, WHMCS `message`). */
  errors?: string[];
  /** Low-level error code (ECONNREFUSED, DEPTH_ZERO_SELF_SIGNED_CERT, EAUTH, ...). */
  code?: string;
  /** True when the call was abandoned because it took longer than the configured timeout. */
  timedOut?: boolean;
}

/**
 * A remote API used by the remediation actions (WHM/cPanel, WHMCS, SMTP) failed. Inside a
 * playbook it fails its step (exit 1); anywhere else the command could not run (exit 3).
 */
export class ApiError extends MailsweepError {
  override name = 'ApiError';
  readonly exitCode = EXIT.unknown;
  readonly service: ApiService;
  readonly call?: string;
  readonly status?: number;
  readonly errors?: string[];
  readonly code?: string;
  readonly timedOut: boolean;

  constructor(
    readonly kind: ApiErrorKind,
    message: string,
    details: ApiErrorDetails,
  ) {
    super(message);
    this.service = details.service;
    if (details.call !== undefined) this.call = details.call;
    if (details.status !== undefined) this.status = details.status;
    if (details.errors !== undefined) this.errors = details.errors;
    if (details.code !== undefined) this.code = details.code;
    this.timedOut = details.timedOut ?? false;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      service: this.service,
      call: this.call,
      status: this.status,
      errors: this.errors,
      code: this.code,
      timedOut: this.timedOut,
      message: this.message,
    };
  }
}

/**
 * Ctrl-C at an @inquirer prompt. Inquirer's README matches it by name: the class lives in
 * @inquirer/core, which is not our dependency, and listr2's adapter may rethrow it.
 */
export function isPromptAbort(e: unknown): boolean {
  return e instanceof Error && e.name === 'ExitPromptError';
}
