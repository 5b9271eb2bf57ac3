// One error type for the remote APIs used by the remediation actions (WHM/cPanel, WHMCS, SMTP).
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

export class ApiError extends Error {
  override name = 'ApiError';
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
