/** The answer of one API call: status, parsed JSON body (text when not JSON), content type. */
export interface ApiAnswer<T> {
  status: number;
  body: T;
  type: string;
}

export type ApiCaller = <T = any>(method: string, path: string, body?: unknown, token?: string | null) => Promise<ApiAnswer<T>>;

/** Calls the bot's HTTP surface as a client would, with a bearer token (null for none). */
export function apiCaller(baseUrl: () => string, defaultToken: string): ApiCaller {
  return async (method, path, body, token = defaultToken) => {
    const response = await fetch(`${baseUrl()}${path}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics): keep the text
    }
    return { status: response.status, body: parsed as never, type: response.headers.get('content-type') ?? '' };
  };
}
