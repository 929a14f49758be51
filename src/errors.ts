/**
 * The one error catalogue. Every error a person can see has a code here, an HTTP status, a short
 * title and — in the thrown instance — a detail that says exactly what to do. A test checks that
 * every code is used and documented. Domain failures (green unhealthy, a trigger fired) are not
 * errors: they are a stage plus a reason on the deployment.
 */
export const ERROR_CATALOGUE = {
  USAGE: { status: 400, title: 'Invalid request' },
  INVALID_JSON: { status: 400, title: 'Request body is not valid JSON' },
  ENVIRONMENT_REQUIRED: { status: 400, title: 'Environment must be named' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  FORBIDDEN: { status: 403, title: 'Not allowed' },
  FOUR_EYES: { status: 403, title: 'Four-eyes rule' },
  UNKNOWN_SERVICE: { status: 404, title: 'Unknown service' },
  UNKNOWN_ENVIRONMENT: { status: 404, title: 'Unknown environment' },
  DEPLOYMENT_NOT_FOUND: { status: 404, title: 'Deployment not found' },
  VERSION_NOT_FOUND: { status: 404, title: 'Version not found' },
  NOT_LOCKED: { status: 404, title: 'Target is not locked' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  TARGET_BUSY: { status: 409, title: 'Another release is active' },
  TARGET_LOCKED: { status: 409, title: 'Target is frozen' },
  ALREADY_LOCKED: { status: 409, title: 'Target is already locked' },
  VERSION_ALREADY_LIVE: { status: 409, title: 'Version is already live' },
  STALE_ACTION: { status: 409, title: 'Action does not apply now' },
  ALREADY_APPROVED: { status: 409, title: 'Already approved' },
  NOTHING_TO_ROLL_BACK: { status: 409, title: 'Nothing to roll back' },
  ROLLBACK_NOT_READY: { status: 409, title: 'Rollback would not be possible' },
  VERSION_NOT_DEPLOYABLE: { status: 422, title: 'Version cannot be deployed' },
  CLOUDFLARE_AUTH: { status: 502, title: 'Cloudflare rejected the API token' },
  CLOUDFLARE_PERMISSION: { status: 502, title: 'Cloudflare token lacks a permission' },
  CLOUDFLARE_SCRIPT_NOT_FOUND: { status: 502, title: 'Worker script not found' },
  CLOUDFLARE_SECRETS_CHANGED: { status: 409, title: 'Secrets changed since that version' },
  CLOUDFLARE_RATE_LIMITED: { status: 503, title: 'Cloudflare rate limit' },
  CLOUDFLARE_UNAVAILABLE: { status: 503, title: 'Cloudflare unavailable' },
  CLOUDFLARE_REJECTED: { status: 502, title: 'Cloudflare refused the request' },
  SHUTTING_DOWN: { status: 503, title: 'kevin-deploy is shutting down' },
  STORE_BUSY: { status: 503, title: 'The database is busy' },
  STORE_READ_ONLY: { status: 503, title: 'The database cannot be written' },
  STORE_UNREACHABLE: { status: 503, title: 'The database cannot be reached' },
  STORE_IN_USE: { status: 503, title: 'The database is in use by another process' },
  STORE_TOO_NEW: { status: 503, title: 'The database was migrated by a newer kevin-deploy' },
  STORE_CORRUPT: { status: 503, title: 'The database is damaged' },
  MALFORMED_REQUEST: { status: 400, title: 'Malformed HTTP request' },
  DUPLICATE_JSON_KEY: { status: 400, title: 'Repeated key in the request body' },
  INVALID_SIGNATURE: { status: 401, title: 'Signature not valid' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request took too long' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Request body too large' },
  URI_TOO_LONG: { status: 414, title: 'URL too long' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported content type' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request headers too large' },
  INTERNAL: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class KevinDeployError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly title: string;
  /** Extra machine-readable fields for the problem body (e.g. the active deployment). */
  readonly extra: Record<string, unknown>;

  constructor(code: ErrorCode, detail: string, extra: Record<string, unknown> = {}) {
    super(detail);
    this.name = 'KevinDeployError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.title = ERROR_CATALOGUE[code].title;
    this.extra = extra;
  }
}

export function isKevinDeployError(error: unknown): error is KevinDeployError {
  return error instanceof KevinDeployError;
}

/** RFC 9457 problem details, as the API answers with `application/problem+json`. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  [extra: string]: unknown;
}

export function toProblem(error: KevinDeployError): Problem {
  return {
    ...error.extra,
    type: `https://kevin-deploy.dev/problems/${error.code.toLowerCase().replaceAll('_', '-')}`,
    title: error.title,
    status: error.status,
    detail: error.message,
    code: error.code,
  };
}
