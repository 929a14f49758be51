import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { EdgeRouter } from './edge-router.ts';
import { listen, LoopbackEdge } from './loopback-server.ts';
import type { WorkerRouting } from './worker-routing.ts';

/**
 * A production hostname of a zone (kevinstamp.com, www.kevinstamp.com) on its own loopback port:
 * each request goes to whichever script the hostname's custom domain or best matching Workers
 * route points at *now*, and that script's edge answers it (its deployment, overrides, previews).
 * So moving a route through the API moves real traffic, as it does on Cloudflare.
 */

export interface HostEdgeOptions {
  hostname: string;
  routing: WorkerRouting;
  /** The edge of a script, undefined for a script the stand-in does not have. */
  edgeOf: (script: string) => EdgeRouter | undefined;
  host: string;
  port: number;
}

export class HostEdge extends LoopbackEdge {
  readonly hostname: string;
  readonly #routing: WorkerRouting;
  readonly #edgeOf: HostEdgeOptions['edgeOf'];

  private constructor(options: HostEdgeOptions, server: Server) {
    super(server);
    this.hostname = options.hostname;
    this.#routing = options.routing;
    this.#edgeOf = options.edgeOf;
  }

  static async start(options: HostEdgeOptions): Promise<HostEdge> {
    const server = createServer();
    const edge = new HostEdge(options, server);
    server.on('request', (req, res) => void edge.#handle(req, res));
    await listen(server, options.port, options.host);
    return edge;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://host-edge.invalid').pathname;
    const match = this.#routing.match(this.hostname, path);
    const edge = match?.script ? this.#edgeOf(match.script) : undefined;
    if (!match || !match.script || !edge) {
      req.resume();
      // No Worker runs here: Cloudflare would pass the request to the origin, which the sandbox does not have.
      const why = !match ? 'no Workers route or custom domain matches' : !match.script ? `the route ${match.name} runs no Worker` : `the Worker ${match.script} does not exist`;
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${this.hostname}${path}: ${why}, and the sandbox has no origin behind it`);
      return;
    }
    this.countServed(match.script);
    await edge.handle(req, res);
  }
}
