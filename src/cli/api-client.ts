import { CliFailure, EXIT } from './exit-codes.ts';
import { sendHttp, type HttpAnswer } from './http-request.ts';

/** A token with where it came from, so a refusal names the token that was refused. */
export interface ApiToken {
  value: string | undefined;
  /** e.g. "the token from $KEVIN_DEPLOY_API_TOKEN". */
  source: string;
  /** What to do when the bot refuses it. */
  ifRefused: string;
  /** When no token is set: why the sandbox token file nearby was not used. */
  whyNotSandbox?: string;
}

export interface ApiClientOptions {
  baseUrl: string;
  /** A bare value (the demo, scripts) or a token with its origin (the CLI: chooseApiToken). */
  token: string | undefined | ApiToken;
}

/**
 * The CLI's remote verbs talk to a running bot over its HTTP API ($KEVIN_DEPLOY_URL with
 * $KEVIN_DEPLOY_API_TOKEN), so the CLI obeys exactly the rules API callers do.
 */
export class ApiClient {
  private readonly token: ApiToken;

  constructor(private readonly options: ApiClientOptions) {
    this.token =
      typeof options.token === 'object'
        ? options.token
        : { value: options.token, source: 'the API token', ifRefused: 'use a token the bot at this URL was started with' };
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const search = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== '') search.set(key, String(value));
    const qs = search.toString();
    return this.request<T>('GET', qs ? `${path}?${qs}` : path);
  }

  post<T>(path: string, body: Record<string, unknown> = {}): Promise<T> {
    return this.request<T>('POST', path, body);
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  private async request<T>(method: string, path: string, body?: Record<string, unknown>): Promise<T> {
    if (!this.token.value) {
      const why = this.token.whyNotSandbox ? ` (${this.token.whyNotSandbox})` : '';
      throw new CliFailure(EXIT.usage, `KEVIN_DEPLOY_API_TOKEN is not set: export the API token of the bot at ${this.options.baseUrl}${why}`);
    }
    const url = `${this.options.baseUrl.replace(/\/+$/, '')}/api/v1${path}`;
    let response: HttpAnswer;
    try {
      response = await sendHttp(url, {
        method,
        headers: {
          authorization: `Bearer ${this.token.value}`,
          accept: 'application/json',
          ...(body ? { 'content-type': 'application/json' } : {}),
        },
        body: body ? JSON.stringify(stripUndefined(body)) : undefined,
        timeoutMs: 60_000,
      });
    } catch (error) {
      const cause = (error as { code?: string }).code ?? (error as Error).message;
      throw new CliFailure(EXIT.failed, `cannot reach kevin-deploy at ${this.options.baseUrl} (${cause}); is it running? (set KEVIN_DEPLOY_URL)`);
    }
    const text = response.text;
    const json = text ? safeJson(text) : undefined;
    if (response.status >= 200 && response.status < 300) return json as T;
    const problem = (json ?? {}) as { title?: string; detail?: string; code?: string };
    const detail = problem.detail ?? problem.title ?? `HTTP ${response.status}`;
    // A refused token: say which one was sent and where it came from, not only "not valid".
    const message =
      response.status === 401 ? `${this.token.source} was refused by the bot at ${this.options.baseUrl} (${detail}): ${this.token.ifRefused}` : detail;
    // 400 is a usage error (fix the command line); every other refusal is "refused".
    throw new CliFailure(response.status === 400 ? EXIT.usage : EXIT.failed, message, json);
  }
}

function stripUndefined(body: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(body).filter(([, v]) => v !== undefined));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text.slice(0, 500) };
  }
}
