import { request as httpRequest } from 'node:http';

export interface HttpAnswer {
  status: number;
  text: string;
}

/**
 * One HTTP request with node:http, not fetch: a CLI call makes one request, and Node loads its
 * fetch implementation (undici) on first use — about 60 ms and 8 MB of the ~150 ms a remote verb
 * may take. node:https (and TLS under it) is loaded only for an https URL. Rejects with the
 * socket's error (its `code`, e.g. ECONNREFUSED) or a timeout.
 */
export async function sendHttp(
  url: string,
  options: { method: string; headers: Record<string, string>; body?: string | undefined; timeoutMs: number },
): Promise<HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === 'https:' ? (await import('node:https')).request : httpRequest;
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    const req = send(target, { method: options.method, headers, timeout: options.timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`no answer within ${options.timeoutMs / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
    req.end(options.body);
  });
}
