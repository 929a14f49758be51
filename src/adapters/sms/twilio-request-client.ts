import twilio from 'twilio';
import type RequestClient from 'twilio/lib/base/RequestClient.js';
import type * as TwilioResponse from 'twilio/lib/http/response.js';

type Response<T> = TwilioResponse.default<T>;

/**
 * The HTTP client under the official `twilio` library, as its "Custom HTTP Clients" guide
 * (advanced-examples/custom-http-client.md) has it: an object whose `request(opts)` sends what the
 * library built (method, absolute URI on https://api.twilio.com, Basic credentials, form data,
 * query params) and answers `{statusCode, body, headers}`. The library still builds every request
 * and reads every answer (MessageInstance, RestException); this client only carries them:
 * - to `TWILIO_API_URL` when set (tests, a loopback fake): `https://api.twilio.com/2010-04-01/…`
 *   goes to `{TWILIO_API_URL}/2010-04-01/…`. The library's own `edge`/`region` options only
 *   rewrite the host within twilio.com, so they cannot reach a loopback server;
 * - with Node's fetch, so the dispatcher's AbortSignal (its attempt deadline) ends a request, and
 *   with a timeout of its own;
 * - never following a redirect (a redirected POST would not be a send);
 * - keeping the last answer's headers: RestException drops them, and a 429's `Retry-After` is one.
 */
export interface TwilioRequestClientOptions {
  /** TWILIO_API_URL: where https://api.twilio.com's paths are sent instead. */
  apiUrl?: string | undefined;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  fetch?: typeof fetch | undefined;
}

export class TwilioRequestClient extends twilio.RequestClient {
  /** The headers of the last answer (lower-case names). */
  lastHeaders: Record<string, string> = {};
  private readonly base: string | undefined;
  private readonly fetchImpl: typeof fetch;

  constructor(private readonly options: TwilioRequestClientOptions) {
    super({ timeout: options.timeoutMs, keepAlive: false });
    this.base = options.apiUrl?.replace(/\/+$/, '') || undefined;
    this.fetchImpl = options.fetch ?? fetch;
  }

  override async request<TData>(opts: RequestClient.RequestOptions<TData>): Promise<Response<TData>> {
    const url = this.urlOf(opts.uri, opts.params);
    const headers = new Headers();
    for (const [name, value] of Object.entries(opts.headers ?? {})) if (typeof value === 'string') headers.set(name, value);
    // The library keeps connections alive through its own agent; fetch has its own pool.
    headers.delete('connection');
    if (opts.username && opts.password) headers.set('authorization', `Basic ${Buffer.from(`${opts.username}:${opts.password}`).toString('base64')}`);
    else if (opts.authStrategy) headers.set('authorization', await opts.authStrategy.getAuthString());
    let body: string | undefined;
    if (opts.data !== undefined && opts.data !== null && opts.method !== 'get') {
      if ((headers.get('content-type') ?? '').startsWith('application/json')) body = JSON.stringify(opts.data);
      else body = formOf(opts.data as Record<string, unknown>).toString();
    }
    const timeout = AbortSignal.timeout(opts.timeout ?? this.options.timeoutMs);
    const response = await this.fetchImpl(url, {
      method: opts.method.toUpperCase(),
      headers,
      ...(body !== undefined ? { body } : {}),
      redirect: 'manual',
      signal: this.options.signal ? AbortSignal.any([this.options.signal, timeout]) : timeout,
    });
    const text = await response.text();
    this.lastHeaders = Object.fromEntries([...response.headers].map(([k, v]) => [k.toLowerCase(), v]));
    let parsed: unknown = text;
    try {
      parsed = text === '' ? text : JSON.parse(text);
    } catch {
      // an HTML error page from a proxy: the library reads the status, and the text is kept
    }
    return { statusCode: response.status, body: parsed as TData, headers: this.lastHeaders } as Response<TData>;
  }

  private urlOf(uri: string, params: unknown): string {
    const url = new URL(uri);
    const target = this.base ? new URL(`${this.base}${url.pathname}${url.search}`) : url;
    if (params && typeof params === 'object') for (const [k, v] of formOf(params as Record<string, unknown>)) target.searchParams.append(k, v);
    return target.toString();
  }
}

/** x-www-form-urlencoded as the library's own client sends it (qs, arrayFormat "repeat"); undefined values are left out. */
function formOf(data: Record<string, unknown>): URLSearchParams {
  const form = new URLSearchParams();
  for (const [key, value] of Object.entries(data)) {
    for (const item of Array.isArray(value) ? value : [value]) {
      if (item === undefined || item === null) continue;
      form.append(key, item instanceof Date ? item.toISOString() : String(item));
    }
  }
  return form;
}
