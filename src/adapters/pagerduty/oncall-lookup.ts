import https from 'node:https';
import { api } from '@pagerduty/pdjs';
import { z } from 'zod';
import { singleRequestAgent } from './pagerduty-channel.ts';

/**
 * Who is on call for an escalation policy, from PagerDuty's REST API
 * (`GET /oncalls?escalation_policy_ids[]=P…&earliest=true&include[]=users`), so a Slack alert can
 * mention the people PagerDuty is about to page. Best effort by design: it never throws; when
 * PagerDuty cannot say, `problem` says why and the caller falls back to its configured mentions.
 *
 * Answers are cached per policy for `cacheMs` (an alert storm asks once); when a refresh fails,
 * the last answer is returned with the problem, since yesterday's on-call beats nobody.
 */

export interface OnCallPerson {
  name: string;
  email?: string | undefined;
  /** The escalation level, 1 first. */
  level: number;
}

export interface OnCallAnswer {
  /** By escalation level, then name. */
  people: OnCallPerson[];
  problem?: string | undefined;
}

export interface OnCallLookupOptions {
  /** A REST API token (PAGERDUTY_API_TOKEN), sent as `Token token=…`. */
  token: string;
  /** Default https://api.pagerduty.com. */
  apiUrl?: string | undefined;
  escalationPolicyId: string;
  /** How long an answer is reused. Default 60 s. */
  cacheMs?: number | undefined;
  now?: (() => Date) | undefined;
  /** The HTTPS agent (tests: one trusting the fake's CA). Default: Node's global agent. */
  agent?: https.Agent | undefined;
  /** Default 5 s: an alert waits for this answer. */
  timeoutMs?: number | undefined;
}

const DEFAULT_API_URL = 'https://api.pagerduty.com';

/** Only what is read; PagerDuty sends much more. With include[]=users, `user` is the full user. */
const onCallsSchema = z.object({
  oncalls: z.array(
    z.object({
      escalation_level: z.number().int(),
      user: z
        .object({
          id: z.string().optional(),
          name: z.string().optional(),
          summary: z.string().optional(),
          email: z.string().optional(),
        })
        .nullable(),
    }),
  ),
});

const errorSchema = z.object({ error: z.object({ message: z.string().optional(), code: z.number().optional() }) });

interface CacheEntry {
  atMs: number;
  people: OnCallPerson[];
}

export class OnCallLookup {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<OnCallAnswer>>();
  private readonly apiUrl: string;
  private readonly cacheMs: number;
  private readonly now: () => Date;

  constructor(private readonly options: OnCallLookupOptions) {
    this.apiUrl = (options.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, '');
    this.cacheMs = options.cacheMs ?? 60_000;
    this.now = options.now ?? (() => new Date());
  }

  /** Who is on call now for the configured policy (or another one). Never throws. */
  async current(escalationPolicyId: string = this.options.escalationPolicyId): Promise<OnCallAnswer> {
    const cached = this.cache.get(escalationPolicyId);
    if (cached && this.now().getTime() - cached.atMs < this.cacheMs) return { people: cached.people };
    // Concurrent alerts share one request.
    const pending = this.inFlight.get(escalationPolicyId);
    if (pending) return pending;
    const lookup = this.fetch(escalationPolicyId).finally(() => this.inFlight.delete(escalationPolicyId));
    this.inFlight.set(escalationPolicyId, lookup);
    return lookup;
  }

  private async fetch(escalationPolicyId: string): Promise<OnCallAnswer> {
    const result = await this.ask(escalationPolicyId);
    if ('people' in result) {
      this.cache.set(escalationPolicyId, { atMs: this.now().getTime(), people: result.people });
      return { people: result.people };
    }
    const stale = this.cache.get(escalationPolicyId);
    return { people: stale?.people ?? [], problem: this.scrub(result.problem) };
  }

  private async ask(escalationPolicyId: string): Promise<{ people: OnCallPerson[] } | { problem: string }> {
    const attempt = singleRequestAgent(this.options.agent ?? https.globalAgent);
    const timeoutMs = this.options.timeoutMs ?? 5_000;
    const parameters = {
      url: `${this.apiUrl}/oncalls`,
      method: 'GET',
      token: this.options.token,
      queryParameters: {
        'escalation_policy_ids[]': [escalationPolicyId],
        earliest: 'true',
        // Without it `user` is a reference: a name (summary) but no email.
        'include[]': ['users'],
      },
      agent: attempt.agent,
      signal: AbortSignal.timeout(timeoutMs),
      requestTimeout: 0,
      retryTimeout: 0,
    };
    let status: number;
    let body: unknown;
    try {
      const response = await api(parameters);
      status = response.status;
      // `r.resource` is only filled for *.pagerduty.com URLs; `r.data` is the body anywhere.
      body = response.data;
    } catch (err) {
      const seen = attempt.firstResponse();
      if (!seen) {
        if (err instanceof Error && err.name === 'AbortError') return { problem: `PagerDuty did not answer within ${timeoutMs} ms` };
        // pdjs rejects with the bare response (not an Error) when a body is not JSON.
        const message = err instanceof Error ? err.message : 'unreadable answer';
        return { problem: `could not reach PagerDuty at ${this.apiUrl}: ${message}` };
      }
      status = seen.status;
      body = undefined;
    }
    if (status !== 200) return { problem: `PagerDuty answered ${status}${describeError(body)} to the on-call lookup` };
    const parsed = onCallsSchema.safeParse(body);
    if (!parsed.success) return { problem: 'PagerDuty answered the on-call lookup with an unexpected body' };
    return { people: peopleOf(parsed.data.oncalls) };
  }

  private scrub(text: string): string {
    const token = this.options.token;
    return token.length > 0 ? text.split(token).join('[api token]') : text;
  }
}

function peopleOf(oncalls: z.infer<typeof onCallsSchema>['oncalls']): OnCallPerson[] {
  const seen = new Set<string>();
  const people: OnCallPerson[] = [];
  for (const oncall of oncalls) {
    const name = oncall.user?.name ?? oncall.user?.summary;
    if (!oncall.user || !name) continue;
    // One person on several schedules of the same level is still one person to mention.
    const key = `${oncall.escalation_level}/${oncall.user.id ?? name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    people.push({ name, ...(oncall.user.email ? { email: oncall.user.email } : {}), level: oncall.escalation_level });
  }
  return people.sort((a, b) => a.level - b.level || a.name.localeCompare(b.name));
}

function describeError(body: unknown): string {
  const parsed = errorSchema.safeParse(body);
  if (!parsed.success) return '';
  const { message, code } = parsed.data.error;
  return message ? ` (${message}${code !== undefined ? `, code ${code}` : ''})` : '';
}
