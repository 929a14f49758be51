import type { FastifyReply, RouteOptions } from 'fastify';
import { KevinDeployError } from '../errors.ts';

/**
 * The methods each registered route answers, collected from fastify's `onRoute` hook, so that a
 * request fastify could not route can be told apart: a path that exists with other methods is a
 * 405 with `Allow` (POST /api/v1/status), any other is a 404. fastify itself answers 404 for both.
 */
export class RouteMethods {
  private readonly routes: Array<{ pattern: RegExp; methods: Set<string> }> = [];

  /** For `app.addHook('onRoute', …)`; must be added before the routes are. */
  readonly onRoute = (route: RouteOptions): void => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = toPattern(route.url);
    const known = this.routes.find((r) => r.pattern.source === pattern.source);
    if (known) for (const method of methods) known.methods.add(method);
    else this.routes.push({ pattern, methods: new Set(methods) });
  };

  /**
   * What a request fastify could not route gets: 405 with `Allow` when its path answers other
   * methods, else 404 ("<missing> GET /path").
   */
  refusal(method: string, url: string, reply: FastifyReply, missing: string): KevinDeployError {
    const path = url.split('?')[0] ?? '';
    const allowed = this.allowed(path);
    if (allowed.length === 0) return new KevinDeployError('NOT_FOUND', `${missing} ${method} ${path}`);
    reply.header('allow', allowed.join(', '));
    return new KevinDeployError('METHOD_NOT_ALLOWED', `${path} does not answer ${method}; it answers ${allowed.join(', ')}`, { allowed });
  }

  /** The methods `path` answers, sorted; empty when no route has that path. */
  allowed(path: string): string[] {
    const methods = new Set<string>();
    for (const route of this.routes) if (route.pattern.test(path)) for (const method of route.methods) methods.add(method);
    return [...methods].sort();
  }
}

/** fastify's path syntax ("/deployments/:id/approve", "/files/*") as a regular expression over a concrete path. */
function toPattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((segment) => (segment.startsWith(':') ? '[^/]+' : segment === '*' ? '.*' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}$`);
}
