/**
 * A browser's part in the console's HTTP exchange, without a browser: keeps the session cookie,
 * reads each page's form token, and posts forms as a browser would (urlencoded, same Origin).
 */
export interface ConsolePage {
  status: number;
  location: string | null;
  html: string;
  headers: Headers;
}

export class ConsoleClient {
  cookie: string | undefined;

  /** Settable: the same browser (its cookie) against another bot, or the same one restarted. */
  constructor(public baseUrl: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<ConsolePage> {
    return this.send('GET', path, undefined, headers);
  }

  /** Posts a form; `_csrf` is taken from `from` (a page this session was shown) unless given. */
  async post(path: string, fields: Record<string, string>, options: { from?: ConsolePage; headers?: Record<string, string> } = {}): Promise<ConsolePage> {
    const csrf = options.from ? csrfOf(options.from.html) : undefined;
    const body = new URLSearchParams({ ...(csrf ? { _csrf: csrf } : {}), ...fields }).toString();
    return this.send('POST', path, body, { 'content-type': 'application/x-www-form-urlencoded', origin: new URL(this.baseUrl).origin, ...options.headers });
  }

  async signIn(token: string, headers: Record<string, string> = {}): Promise<ConsolePage> {
    return this.post('/console/sign-in', { token }, { headers });
  }

  private async send(method: string, path: string, body: string | undefined, headers: Record<string, string>): Promise<ConsolePage> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      redirect: 'manual',
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
      ...(body !== undefined ? { body } : {}),
    });
    for (const set of response.headers.getSetCookie()) {
      const [pair] = set.split(';');
      this.cookie = pair!.endsWith('=') ? undefined : pair;
    }
    return { status: response.status, location: response.headers.get('location'), html: await response.text(), headers: response.headers };
  }
}

export function csrfOf(html: string): string | undefined {
  return /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
}

/** The visible words of a page, roughly: tags dropped, entities for the few characters we escape decoded. */
export function textOf(html: string): string {
  return html
    .replace(/<script[\s\S]*?<\/script>/g, ' ')
    .replace(/<[^>]+>/g, ' ')
    .replace(/&#(\d+);/g, (_m, code: string) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, ' ');
}
