/**
 * Cloudflare v4 response envelopes and the error codes the stand-in answers with. The codes are
 * the ones the real API returns (seen in public wrangler tests, field notes and client code), so
 * an adapter that branches on `err.errors[0].code` behaves the same here as in production.
 */

export interface CloudflareMessage {
  code: number;
  message: string;
}

export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
}

export interface Envelope {
  success: boolean;
  errors: CloudflareMessage[];
  messages: CloudflareMessage[];
  result: unknown;
  result_info?: ResultInfo;
}

export const CF_CODES = {
  /** Bad/missing token, a token without the permission, or an account the token cannot see. */
  authentication: 10000,
  /** Path outside /client/v4. */
  noRoute: 7000,
  /** Path under /client/v4 that matches no endpoint. */
  couldNotRoute: 7003,
  malformedJson: 6007,
  /** A version upload the API refuses: missing/broken metadata part, unknown main module, bad binding. */
  uploadInvalid: 10021,
  versionIdMalformed: 10004,
  workerNotFound: 10007,
  /** 5xx: the real API's catch-all. */
  unknown: 10013,
  versionNotFound: 10071,
  invalidDeployment: 10210,
  secretsChanged: 10220,
  /** 429 from the API's rate limiter. */
  rateLimited: 971,
  // Workers routes (`/zones/{zone_id}/workers/routes`). 10009 and 10019 are what public clients
  // that run against the live API match on; 10020 and 10022 are their codes for a pattern taken
  // by another route and a pattern that does not fit the zone (wording here is the stand-in's).
  routeNotFound: 10009,
  routeScriptNotFound: 10019,
  routePatternTaken: 10020,
  routePatternInvalid: 10022,
} as const;

export const CF_MESSAGES = {
  authentication: 'Authentication error',
  noRoute: 'No route for that URI',
  couldNotRoute: (path: string) => `Could not route to ${path}, perhaps your object identifier is invalid?`,
  malformedJson: 'Malformed JSON in request body',
  versionIdMalformed: "The parameter 'version_id' is malformed",
  workerNotFound: 'This Worker does not exist on your account.',
  unknown: 'An unknown error has occurred',
  versionNotFound: 'The requested Worker version could not be found',
  rateLimited: 'Please wait and consider throttling your request speed',
  routeNotFound: 'Route not found',
  routeScriptNotFound: 'Cannot configure a route for a Worker which does not exist. Please ensure this Worker exists and try again.',
  routePatternTaken: 'A route with the same pattern already exists',
  routePatternInvalid: (zone: string) => `Route pattern must include zone name: ${zone}`,
  // Wording of the real API's 10220 (as reproduced in wrangler's own rollback tests).
  secretsChanged: (secrets: string[]) =>
    'A secret has changed since this version was active. If you are sure this is ok, add a ?force=true query parameter to allow the rollback. ' +
    `The following secrets have changed: ${secrets.join(', ')}`,
} as const;

export interface ApiResult {
  status: number;
  body: Envelope;
  headers?: Record<string, string>;
}

export function success(result: unknown, resultInfo?: ResultInfo): ApiResult {
  const body: Envelope = { success: true, errors: [], messages: [], result };
  if (resultInfo) body.result_info = resultInfo;
  return { status: 200, body };
}

export function failure(status: number, code: number, message: string, headers?: Record<string, string>): ApiResult {
  const result: ApiResult = { status, body: { success: false, errors: [{ code, message }], messages: [], result: null } };
  if (headers) result.headers = headers;
  return result;
}
