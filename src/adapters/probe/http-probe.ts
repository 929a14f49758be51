import type { z } from 'zod';
import type { CheckResult } from '../../domain/deployment.ts';
import type { Probe, ProbeRequest } from '../../ports/probe.ts';
import { basicHealthSchema, detailedHealthSchema, falseFlags } from './health-shapes.ts';

const MAX_BODY_CHARS = 2_000_000;

interface Fetched {
  status: number;
  body: string;
}

/**
 * Checks a version over HTTP: /health, /health/detailed, /ready, the content checks and — when
 * the app reports one — the version id. All checks run concurrently, each with the configured
 * timeout, so one slow endpoint cannot stretch a probe beyond one timeout.
 */
export class HttpProbe implements Probe {
  constructor(private readonly fetchImpl: typeof fetch = fetch) {}

  async run(request: ProbeRequest): Promise<CheckResult[]> {
    const reported: string[] = [];
    const checks: Array<Promise<CheckResult>> = [this.health(request, reported)];
    if (request.paths.detailed) checks.push(this.detailed(request, request.paths.detailed, reported));
    if (request.paths.ready) checks.push(this.ready(request, request.paths.ready));
    for (const check of request.contentChecks) checks.push(this.content(request, check));
    const results = await Promise.all(checks);
    if (request.expectVersion) {
      const answered = results.some((r) => (r.name === 'health' || r.name === 'detailed') && /^\d{3} /.test(r.detail));
      results.push(versionCheck(request.expectVersion, reported, answered));
    }
    return results;
  }

  private async health(request: ProbeRequest, reported: string[]): Promise<CheckResult> {
    const name = 'health';
    const got = await this.get(request, request.paths.health);
    if (typeof got === 'string') return { name, ok: false, detail: got };
    const parsed = parseJson(got.body, basicHealthSchema);
    if (!parsed.ok) return { name, ok: false, detail: `${got.status} from ${request.paths.health}: ${parsed.problem}` };
    if (parsed.value.versionId) reported.push(parsed.value.versionId);
    const ok = got.status === 200 && parsed.value.status === 'healthy';
    return { name, ok, detail: `${got.status} ${parsed.value.status}` };
  }

  private async detailed(request: ProbeRequest, path: string, reported: string[]): Promise<CheckResult> {
    const name = 'detailed';
    const got = await this.get(request, path);
    if (typeof got === 'string') return { name, ok: false, detail: got };
    const parsed = parseJson(got.body, detailedHealthSchema);
    if (!parsed.ok) return { name, ok: false, detail: `${got.status} from ${path}: ${parsed.problem}` };
    if (parsed.value.versionId) reported.push(parsed.value.versionId);
    const flags = falseFlags(parsed.value);
    const ok = got.status === 200 && parsed.value.status === 'healthy' && flags.length === 0;
    const detail = flags.length > 0 ? `${got.status} ${parsed.value.status}; false: ${flags.join(', ')}` : `${got.status} ${parsed.value.status}; every check and cultural flag true`;
    return { name, ok, detail };
  }

  private async ready(request: ProbeRequest, path: string): Promise<CheckResult> {
    const got = await this.get(request, path);
    if (typeof got === 'string') return { name: 'ready', ok: false, detail: got };
    const ok = got.status >= 200 && got.status < 300;
    return { name: 'ready', ok, detail: `${got.status} from ${path}` };
  }

  private async content(request: ProbeRequest, check: { path: string; contains: string }): Promise<CheckResult> {
    const name = `content ${check.path}`;
    const got = await this.get(request, check.path);
    // A page that does not answer (or answers an error) is a health problem, not missing KEVIN
    // content: it counts toward consecutive health failures and the error rate, not the emergency.
    if (typeof got === 'string') return { name: `page ${check.path}`, ok: false, detail: got };
    if (got.status < 200 || got.status >= 300) return { name: `page ${check.path}`, ok: false, detail: `${got.status} from ${check.path}` };
    const ok = got.body.includes(check.contains);
    return { name, ok, detail: ok ? `"${check.contains}" present` : `"${check.contains}" missing on ${check.path}` };
  }

  /** The response, or a sentence saying why there was none. */
  private async get(request: ProbeRequest, path: string): Promise<Fetched | string> {
    const url = joinUrl(request.baseUrl, path);
    try {
      const response = await this.fetchImpl(url, {
        headers: { ...request.headers, 'user-agent': 'kevin-deploy-probe', 'cache-control': 'no-cache' },
        redirect: 'follow',
        signal: AbortSignal.timeout(request.timeoutMs),
      });
      const body = (await response.text()).slice(0, MAX_BODY_CHARS);
      return { status: response.status, body };
    } catch (error) {
      const reason = error instanceof Error && error.name === 'TimeoutError' ? `no answer within ${request.timeoutMs} ms` : describeFetchError(error);
      return `${path}: ${reason}`;
    }
  }
}

function versionCheck(expected: string, reported: string[], answered: boolean): CheckResult {
  const wrong = reported.find((v) => v !== expected);
  if (wrong) return { name: 'version', ok: false, detail: `the app reports version ${wrong.slice(0, 8)}, expected ${expected.slice(0, 8)}` };
  if (reported.length === 0 && !answered) return { name: 'version', ok: true, detail: 'not checked: the health endpoints did not answer' };
  if (reported.length === 0) return { name: 'version', ok: true, detail: 'the app does not report its version; not checked' };
  return { name: 'version', ok: true, detail: `reports ${expected.slice(0, 8)}` };
}

function parseJson<T extends z.ZodType>(body: string, schema: T): { ok: true; value: z.output<T> } | { ok: false; problem: string } {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  const result = schema.safeParse(json);
  if (result.success) return { ok: true, value: result.data };
  const first = result.error.issues[0];
  return { ok: false, problem: `unexpected shape (${first ? `${first.path.join('.') || 'body'}: ${first.message}` : 'invalid'})` };
}

function joinUrl(base: string, path: string): string {
  return `${base.replace(/\/+$/, '')}${path}`;
}

function describeFetchError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ? `${cause.code}` : cause?.message ?? error.message;
}
