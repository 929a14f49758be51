import { KevinDeployError } from '../src/errors.ts';
import type { EdgeInfo } from './edge-info.ts';
import { parseBehavior } from './sample-site.ts';

interface Envelope<T> {
  success: boolean;
  errors: Array<{ code: number; message: string }>;
  result: T;
}

interface RawVersion {
  id: string;
  number: number;
  metadata?: { created_on?: string };
  annotations?: Record<string, string | undefined>;
}

export interface UploadedVersion {
  id: string;
  number: number;
  tag: string;
  behavior: string;
  /** Blue and green as two Workers: the Worker it was uploaded to (the one without routes). */
  script?: string;
}

/**
 * Talks to the sandbox edge the way CI and an operator would talk to Cloudflare: uploads versions
 * with a multipart body like `wrangler versions upload --tag`, and reads or sets deployments.
 */
export class SandboxEdgeClient {
  constructor(private readonly edge: EdgeInfo) {}

  private scriptPath(script = this.edge.script): string {
    return `${this.edge.apiBaseUrl}/accounts/${this.edge.accountId}/workers/scripts/${script}`;
  }

  /** Newest first; with blue and green as two Workers, both Workers' versions. */
  async versions(): Promise<RawVersion[]> {
    const scripts = this.edge.routes?.scripts ?? [this.edge.script];
    const lists = await Promise.all(scripts.map((script) => this.request<{ items: RawVersion[] }>('GET', `${this.scriptPath(script)}/versions?deployable=true`)));
    return lists.flatMap((l) => l.items).sort((a, b) => (b.metadata?.created_on ?? '').localeCompare(a.metadata?.created_on ?? ''));
  }

  /** The live deployment: of the one Worker, or of the Worker the routes point at. */
  async activeSplit(): Promise<Record<string, number>> {
    const script = this.edge.routes ? (await this.routeScripts()).live : this.edge.script;
    const result = await this.request<{ deployments: Array<{ versions: Array<{ version_id: string; percentage: number }> }> }>(
      'GET',
      `${this.scriptPath(script)}/deployments`,
    );
    return Object.fromEntries((result.deployments[0]?.versions ?? []).map((v) => [v.version_id, v.percentage]));
  }

  /** With routes: the Worker the first route points at (live) and the other one (idle, where CI uploads). */
  async routeScripts(): Promise<{ live: string; idle: string }> {
    const layout = this.edge.routes;
    if (!layout) return { live: this.edge.script, idle: this.edge.script };
    const routes = await this.request<Array<{ pattern: string; script?: string }>>('GET', `${this.edge.apiBaseUrl}/zones/${layout.zoneId}/workers/routes`);
    const live = routes.find((r) => r.pattern === layout.patterns[0])?.script ?? layout.scripts[0]!;
    return { live, idle: layout.scripts.find((script) => script !== live) ?? live };
  }

  /** Uploads a version of the sample site; refuses a tag that already exists rather than making `deploy TAG` ambiguous. */
  async upload(options: { tag: string; message?: string | undefined; behavior?: string | undefined }): Promise<UploadedVersion> {
    const behavior = options.behavior ?? 'healthy';
    try {
      parseBehavior(behavior);
    } catch (error) {
      throw new KevinDeployError('USAGE', error instanceof Error ? error.message : String(error));
    }
    if (!/^[^\s]{1,64}$/.test(options.tag)) throw new KevinDeployError('USAGE', 'a tag is 1 to 64 characters without spaces, e.g. v2');
    const existing = (await this.versions()).find((v) => v.annotations?.['workers/tag'] === options.tag);
    if (existing) {
      throw new KevinDeployError(
        'USAGE',
        `tag ${options.tag} already exists (version ${existing.id.slice(0, 8)}, uploaded ${existing.metadata?.created_on ?? 'earlier'}); upload with a new tag`,
      );
    }
    const metadata = {
      main_module: 'worker.js',
      compatibility_date: '2026-11-01',
      bindings: [{ type: 'plain_text', name: 'SANDBOX_BEHAVIOR', text: behavior }],
      annotations: { 'workers/tag': options.tag, 'workers/message': options.message ?? `KEVINSTAMP ${options.tag}` },
    };
    const form = new FormData();
    form.set('metadata', JSON.stringify(metadata));
    form.set(
      'worker.js',
      new Blob([`export default { fetch() { return new Response('KEVIN ${options.tag}'); } };\n`], { type: 'application/javascript+module' }),
      'worker.js',
    );
    // Blue and green as two Workers: the release goes to the Worker no route points at.
    const script = this.edge.routes ? (await this.routeScripts()).idle : this.edge.script;
    const created = await this.request<RawVersion>('POST', `${this.scriptPath(script)}/versions`, form);
    return { id: created.id, number: created.number, tag: options.tag, behavior, ...(this.edge.routes ? { script } : {}) };
  }

  async deploy(split: Record<string, number>): Promise<void> {
    await this.request('POST', `${this.scriptPath()}/deployments`, {
      strategy: 'percentage',
      versions: Object.entries(split).map(([version_id, percentage]) => ({ version_id, percentage })),
    });
  }

  async trafficStats(): Promise<unknown> {
    const response = await fetch(`${this.edge.apiBaseUrl.replace(/\/client\/v4$/, '')}/__stand-in/traffic`);
    return response.ok ? response.json() : undefined;
  }

  private async request<T>(method: string, url: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.edge.apiToken}`,
          ...(body !== undefined && !(body instanceof FormData) ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: body instanceof FormData ? body : JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(10_000),
      });
    } catch {
      throw new KevinDeployError('USAGE', `the sandbox edge at ${this.edge.apiBaseUrl} does not answer; is \`npm start\` running?`);
    }
    const envelope = (await response.json()) as Envelope<T>;
    if (!envelope.success) {
      throw new KevinDeployError('USAGE', `the sandbox edge refused: ${envelope.errors.map((e) => e.message).join('; ')}`);
    }
    return envelope.result;
  }
}
