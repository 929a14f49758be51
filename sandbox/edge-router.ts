import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen, LoopbackEdge } from './loopback-server.ts';
import type { SampleSite } from './sample-site.ts';
import type { StandInState, VersionRecord } from './stand-in-state.ts';
import { parseVersionOverrides } from './version-overrides-header.ts';
import { WeightedPicker } from './weighted-picker.ts';

/**
 * The sandbox's "Cloudflare edge" for one script: real HTTP traffic, split between versions by
 * the active deployment exactly as the bot configured it through the API. Routing order mirrors
 * the platform: preview URL, then a valid version override, then the percentages.
 */

export interface EdgeRouterOptions {
  script: string;
  state: StandInState;
  site: SampleSite;
  host: string;
  port: number;
}

export const PREVIEW_PREFIX = '/__preview/';
export const VERSION_OVERRIDES_HEADER = 'cloudflare-workers-version-overrides';

// Preview URLs carry the first 8 characters of the version id (…/__preview/0b0f8a5e/health).
const PREVIEW_PATH = /^\/__preview\/([0-9a-fA-F]{8})(\/.*)?$/;

type Routing = { version: VersionRecord; path: string } | { status: number; text: string };

export class EdgeRouter extends LoopbackEdge {
  readonly script: string;
  readonly #state: StandInState;
  readonly #site: SampleSite;
  readonly #picker = new WeightedPicker();

  private constructor(options: EdgeRouterOptions, server: Server) {
    super(server);
    this.script = options.script;
    this.#state = options.state;
    this.#site = options.site;
  }

  static async start(options: EdgeRouterOptions): Promise<EdgeRouter> {
    const server = createServer();
    const router = new EdgeRouter(options, server);
    server.on('request', (req, res) => void router.handle(req, res));
    await listen(server, options.port, options.host);
    return router;
  }

  /** Which version answers, and with which path — exposed for tests of the routing rules. */
  route(pathname: string, overridesHeader: string | undefined): Routing {
    const preview = PREVIEW_PATH.exec(pathname);
    if (preview) {
      const [version] = this.#state.versionsByPrefix(this.script, preview[1] as string);
      if (!version) return { status: 404, text: 'no version of this Worker has that preview prefix' };
      return { version, path: preview[2] ?? '/' };
    }

    const deployment = this.#state.activeDeployment(this.script);
    if (!deployment) return { status: 503, text: 'no deployment' };

    const wanted = parseVersionOverrides(overridesHeader).get(this.script);
    // Cloudflare honours an override only for a version in the active deployment (0 % included)
    // and ignores anything else without a word — which is why the bot must read versionId back.
    if (wanted !== undefined && deployment.versions.some((v) => v.versionId === wanted)) {
      const version = this.#state.version(wanted);
      if (version) return { version, path: pathname };
    }

    const picked = this.#picker.pick(
      deployment.id,
      deployment.versions.map((v) => ({ id: v.versionId, weight: v.percentage })),
    );
    const version = picked === undefined ? undefined : this.#state.version(picked);
    if (!version) return { status: 503, text: 'no deployment' };
    return { version, path: pathname };
  }

  /**
   * Answers one request as this script: its own workers.dev address, or a zone's production
   * hostname whose route or custom domain points at this script (host-edge.ts).
   */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume(); // the sample site never reads bodies; drain so keep-alive sockets stay usable
    const url = new URL(req.url ?? '/', 'http://edge.invalid');
    const header = req.headers[VERSION_OVERRIDES_HEADER];
    const routing = this.route(url.pathname, Array.isArray(header) ? header.join(', ') : header);
    if ('status' in routing) {
      res.writeHead(routing.status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(routing.text);
      return;
    }

    const { version, path } = routing;
    this.countServed(version.id);
    try {
      const answer = await this.#site.respond(
        {
          id: version.id,
          tag: version.tag,
          number: version.number,
          behavior: version.behavior,
          hadTraffic: this.#state.hadTraffic(this.script, version.id),
        },
        { method: req.method ?? 'GET', path },
      );
      res.writeHead(answer.status, answer.headers);
      res.end(answer.body);
    } catch {
      res.destroy(); // the site is closing mid-delay
    }
  }
}
