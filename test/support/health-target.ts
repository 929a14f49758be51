import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny app over real HTTP that serves the seed's health shapes ("Health Check Implementation"
 * in the seed strategy): /health, /health/detailed, /ready, a KEVIN home page and /about.
 * Tests override single answers per path to stage exactly the failure they are about.
 */

/**
 * What a path answers. 'hang' never answers (until the server closes); 'stall-body' sends a 200
 * and the start of a body, then nothing more; 'reset' drops the connection.
 */
export type Answer =
  | { status?: number; json: unknown }
  | { status?: number; text: string; contentType?: string }
  | 'hang'
  | 'stall-body'
  | 'reset';

export interface RecordedRequest {
  method: string;
  /** Path as received (preview prefix included). */
  path: string;
  headers: IncomingHttpHeaders;
}

export interface HealthTarget {
  /** e.g. http://127.0.0.1:P */
  url: string;
  /** Every request received, in arrival order. */
  requests: RecordedRequest[];
  /** Replaces what `path` answers; `null` makes it a 404. */
  answer(path: string, answer: Answer | null): void;
  close(): Promise<void>;
}

export function healthyBasic(versionId?: string): Record<string, unknown> {
  return { status: 'healthy', timestamp: '2026-11-26T09:00:00.000Z', ...(versionId ? { versionId } : {}) };
}

export function healthyDetailed(versionId?: string): {
  status: string;
  checks: Record<string, boolean>;
  performance: Record<string, number>;
  cultural: Record<string, boolean>;
  versionId?: string;
  timestamp: string;
} {
  return {
    status: 'healthy',
    checks: { database: true, cache: true, email: true, staticAssets: true, kevinContent: true },
    performance: { responseTime: 42, memoryUsage: 41.2, cpuUsage: 12.4 },
    cultural: { kevinBrandingPresent: true, inquirySystemFunctional: true, communityDataAccurate: true },
    ...(versionId ? { versionId } : {}),
    timestamp: '2026-11-26T09:00:00.000Z',
  };
}

export const KEVIN_HOME =
  '<!doctype html><html><head><title>KEVIN — Bitcoin Stamps</title></head><body><h1>KEVIN</h1><p>The first stamp.</p></body></html>';

// Preview-style prefixes (/__preview/abcd1234/health) are stripped so a base URL with a path works.
const PREVIEW_PREFIX = /^\/__preview\/[0-9a-f]{8}(?=\/|$)/i;

export async function startHealthTarget(options: { versionId?: string } = {}): Promise<HealthTarget> {
  const answers = new Map<string, Answer>([
    ['/health', { json: healthyBasic(options.versionId) }],
    ['/health/detailed', { json: healthyDetailed(options.versionId) }],
    ['/ready', { json: { ready: true } }],
    ['/', { text: KEVIN_HOME, contentType: 'text/html; charset=utf-8' }],
    ['/about', { text: '<html><body>About KEVIN and the community</body></html>', contentType: 'text/html; charset=utf-8' }],
  ]);
  const requests: RecordedRequest[] = [];
  const hanging = new Set<ServerResponse>();

  const server = createServer((req, res) => {
    req.resume();
    const raw = new URL(req.url ?? '/', 'http://health-target.invalid').pathname;
    requests.push({ method: req.method ?? 'GET', path: raw, headers: req.headers });
    const path = raw.replace(PREVIEW_PREFIX, '') || '/';
    const answer = answers.get(path);
    if (answer === undefined) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    if (answer === 'hang') {
      hanging.add(res);
      return;
    }
    if (answer === 'stall-body') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"status":"heal');
      hanging.add(res);
      return;
    }
    if (answer === 'reset') {
      req.socket.destroy();
      return;
    }
    if ('json' in answer) {
      res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.json));
      return;
    }
    res.writeHead(answer.status ?? 200, { 'content-type': answer.contentType ?? 'text/plain; charset=utf-8' });
    res.end(answer.text);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer(path, answer) {
      if (answer === null) answers.delete(path);
      else answers.set(path, answer);
    },
    close() {
      return new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

/** A port nothing listens on: bound once, then released. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
