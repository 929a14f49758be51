/**
 * A loopback stand-in for the Prometheus HTTP API's instant query endpoint, good enough for
 * kevin-deploy's PrometheusSource:
 *
 *   const prom = await startFakePrometheus();
 *   prom.setSeries('sum(rate(errors{version="abc"}[1m]))', 2.5);
 *   // settings.monitor.metrics = { source: 'prometheus', url: prom.url, … }
 *
 * How it answers, as Prometheus does (https://prometheus.io/docs/prometheus/latest/querying/api/):
 * - `GET /api/v1/query?query=<PromQL>&time=<rfc3339 | unix seconds>` (POST with a form body too);
 *   success is HTTP 200 `{status:'success', data:{resultType, result}}`.
 * - a vector result is `[{metric:{…labels}, value:[<unix seconds float>, "<value as string>"]}]`;
 *   a scalar `[<unix seconds>, "<value>"]`; values are strings, NaN as "NaN", infinities "+Inf"/"-Inf".
 * - a query that does not parse (unbalanced brackets or quotes here), a missing `query` or a bad
 *   `time` → HTTP 400 `{status:'error', errorType:'bad_data', error:'…'}`; `setError` scripts one.
 * - a query nobody configured → an empty vector, like a selector matching no series.
 * - anything but /api/v1/query → 404 text.
 *
 * Answers: `setSeries(query, value)` per exact query string (number → one series; null → empty
 * vector; `{scalar}`; `{series:[…]}` for several series), or `setResponder((query, time) => …)`
 * for every query (undefined from the responder falls back to setSeries). `queries()` records
 * each query received, with its `time`. `setDown(true)` resets every connection without an answer
 * (as a stopped Prometheus would look behind a proxy); `setDown('unavailable')` answers 503
 * `{status:'error', errorType:'unavailable'}`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeSeries = number | null | { scalar: number } | { series: Array<{ metric?: Record<string, string>; value: number }> };

export interface RecordedQuery {
  query: string;
  /** The `time` parameter as sent (a string), or null when absent. */
  time: string | null;
  /** `time` as unix seconds (NaN when absent or unparsable). */
  timeSeconds: number;
}

export interface FakePrometheus {
  /** e.g. 'http://127.0.0.1:P' (no trailing slash). */
  url: string;
  setSeries(query: string, value: FakeSeries): void;
  setResponder(responder: ((query: string, timeSeconds: number) => FakeSeries | undefined) | undefined): void;
  /** Every answer to this exact query is a Prometheus error (default HTTP 422, errorType execution). */
  setError(query: string, error: { errorType?: string; error: string; status?: number }): void;
  setDown(down: boolean | 'unavailable'): void;
  queries(): RecordedQuery[];
  close(): Promise<void>;
}

export async function startFakePrometheus(): Promise<FakePrometheus> {
  const series = new Map<string, FakeSeries>();
  const errors = new Map<string, { errorType?: string; error: string; status?: number }>();
  const recorded: RecordedQuery[] = [];
  let responder: ((query: string, timeSeconds: number) => FakeSeries | undefined) | undefined;
  let down: boolean | 'unavailable' = false;

  const server = createServer((req, res) => void handle(req, res));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (down === true) {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://prometheus.invalid');
    let params = url.searchParams;
    if (req.method === 'POST') {
      const body = await readBody(req);
      params = new URLSearchParams(body);
      for (const [k, v] of url.searchParams) if (!params.has(k)) params.set(k, v);
    } else {
      req.resume();
    }
    if (url.pathname !== '/api/v1/query' || (req.method !== 'GET' && req.method !== 'POST')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return;
    }
    if (down === 'unavailable') {
      send(res, 503, { status: 'error', errorType: 'unavailable', error: 'query processing would load too many samples into memory' });
      return;
    }

    const query = params.get('query');
    const timeRaw = params.get('time');
    const timeSeconds = parseTime(timeRaw);
    recorded.push({ query: query ?? '', time: timeRaw, timeSeconds });
    if (query === null || query.trim() === '') {
      send(res, 400, { status: 'error', errorType: 'bad_data', error: 'invalid parameter "query": unknown position: parse error: no expression found in input' });
      return;
    }
    if (timeRaw !== null && Number.isNaN(timeSeconds)) {
      send(res, 400, { status: 'error', errorType: 'bad_data', error: `invalid parameter "time": cannot parse "${timeRaw}" to a valid timestamp` });
      return;
    }
    const parseProblem = checkSyntax(query);
    if (parseProblem) {
      send(res, 400, { status: 'error', errorType: 'bad_data', error: `invalid parameter "query": ${parseProblem}` });
      return;
    }
    const scripted = errors.get(query);
    if (scripted) {
      send(res, scripted.status ?? 422, { status: 'error', errorType: scripted.errorType ?? 'execution', error: scripted.error });
      return;
    }

    const evalTime = Number.isNaN(timeSeconds) ? Date.now() / 1000 : timeSeconds;
    const answer = responder?.(query, evalTime) ?? series.get(query) ?? null;
    send(res, 200, { status: 'success', data: toData(answer, evalTime) });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  return {
    url: `http://127.0.0.1:${address.port}`,
    setSeries: (query, value) => void series.set(query, value),
    setResponder: (fn) => {
      responder = fn;
    },
    setError: (query, error) => void errors.set(query, error),
    setDown: (value) => {
      down = value;
    },
    queries: () => recorded.map((q) => ({ ...q })),
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

function toData(answer: FakeSeries, time: number): { resultType: string; result: unknown } {
  if (answer === null) return { resultType: 'vector', result: [] };
  if (typeof answer === 'number') return { resultType: 'vector', result: [{ metric: {}, value: [time, formatValue(answer)] }] };
  if ('scalar' in answer) return { resultType: 'scalar', result: [time, formatValue(answer.scalar)] };
  return {
    resultType: 'vector',
    result: answer.series.map((s) => ({ metric: s.metric ?? {}, value: [time, formatValue(s.value)] })),
  };
}

/** Prometheus renders sample values as strings: "NaN", "+Inf", "-Inf", else the shortest float text. */
function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

function parseTime(raw: string | null): number {
  if (raw === null) return Number.NaN;
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  return Number.isNaN(ms) ? Number.NaN : ms / 1000;
}

/** Just enough of a parser to refuse what Prometheus would: unbalanced brackets, unterminated strings. */
function checkSyntax(query: string): string | undefined {
  const closing: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  const stack: string[] = [];
  for (let i = 0; i < query.length; i++) {
    const c = query[i] as string;
    if (c === '"' || c === "'" || c === '`') {
      const end = findStringEnd(query, i, c);
      if (end < 0) return `1:${i + 1}: parse error: unterminated quoted string`;
      i = end;
    } else if (c === '(' || c === '[' || c === '{') {
      stack.push(c);
    } else if (c in closing) {
      if (stack.pop() !== closing[c]) return `1:${i + 1}: parse error: unexpected "${c}"`;
    }
  }
  if (stack.length > 0) return `1:${query.length + 1}: parse error: unclosed "${stack.at(-1)}"`;
  return undefined;
}

function findStringEnd(query: string, start: number, quote: string): number {
  for (let i = start + 1; i < query.length; i++) {
    if (quote !== '`' && query[i] === '\\') {
      i += 1;
      continue;
    }
    if (query[i] === quote) return i;
  }
  return -1;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
