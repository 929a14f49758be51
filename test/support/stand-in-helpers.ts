import Cloudflare from 'cloudflare';
import {
  startCloudflareStandIn,
  type CloudflareStandIn,
  type StandInOptions,
} from '../../sandbox/cloudflare-stand-in.ts';

/** Shared fixtures for tests that run against the Cloudflare stand-in. */

export const STAND_IN_TOKEN = 'stand-in-token';
export const STAND_IN_READ_ONLY_TOKEN = 'stand-in-read-only-token';
export const STAND_IN_ACCOUNT = '0123456789abcdef0123456789abcdef';
export const STAND_IN_SCRIPT = 'kevinstamp';

/** A settable clock: tests move time forward explicitly instead of waiting. */
export function manualClock(startIso = '2026-11-26T09:00:00.000Z'): { clock: () => Date; advance(ms: number): void } {
  let now = Date.parse(startIso);
  return {
    clock: () => new Date(now),
    advance(ms: number) {
      now += ms;
    },
  };
}

export function startTestStandIn(overrides: Partial<StandInOptions> = {}): Promise<CloudflareStandIn> {
  return startCloudflareStandIn({
    apiToken: STAND_IN_TOKEN,
    readOnlyTokens: [STAND_IN_READ_ONLY_TOKEN],
    accountId: STAND_IN_ACCOUNT,
    scripts: [STAND_IN_SCRIPT],
    ...overrides,
  });
}

/** The real SDK, pointed at the stand-in; retries off unless a test wants them. */
export function standInClient(
  standIn: CloudflareStandIn,
  options: { token?: string; maxRetries?: number } = {},
): Cloudflare {
  return new Cloudflare({
    apiToken: options.token ?? STAND_IN_TOKEN,
    baseURL: standIn.apiBaseUrl,
    maxRetries: options.maxRetries ?? 0,
  });
}

export function scriptPath(suffix: string, account = STAND_IN_ACCOUNT, script = STAND_IN_SCRIPT): string {
  return `/accounts/${account}/workers/scripts/${script}/${suffix}`;
}

export interface EdgeAnswer {
  status: number;
  servedBy: string | null;
  text: string;
}

export async function edgeGet(url: string, headers: Record<string, string> = {}): Promise<EdgeAnswer> {
  const response = await fetch(url, { headers });
  return { status: response.status, servedBy: response.headers.get('x-kevin-version'), text: await response.text() };
}

/** Sends n sequential requests and counts who answered (sequential keeps the round-robin exact). */
export async function edgeTally(url: string, n: number): Promise<Record<string, number>> {
  const tally: Record<string, number> = {};
  for (let i = 0; i < n; i += 1) {
    const answer = await edgeGet(url);
    const key = answer.servedBy ?? `status-${answer.status}`;
    tally[key] = (tally[key] ?? 0) + 1;
  }
  return tally;
}

/** Awaits a promise expected to reject and returns the rejection, failing the test otherwise. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}
