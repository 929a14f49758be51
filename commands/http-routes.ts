import type { HttpRoute } from './define-command.ts';
import type { AnyCommand } from './run-command.ts';

/** `/locks/:service/:environment` → ['service', 'environment']. */
export function pathParamsOf(route: HttpRoute): string[] {
  return route.path.split('/').flatMap((segment) => (segment.startsWith(':') ? [segment.slice(1)] : []));
}

/** The query parameters a route takes: for a query route, the command's arguments (`argNamesOf` its schema) that are not in its path; none otherwise. */
export function queryParamsOf(route: HttpRoute, argNames: readonly string[]): string[] {
  if (route.input !== 'query') return [];
  const inPath = pathParamsOf(route);
  return argNames.filter((name) => !inPath.includes(name));
}

/**
 * The route a caller (the CLI) sends these arguments to: the first of the command's routes whose
 * path arguments are all given — so a command with a route per form puts the more specific one
 * first (rollback: `/deployments/:id/rollback` before `/rollbacks`).
 */
export function routeFor(command: AnyCommand, args: Record<string, unknown>): HttpRoute {
  const route = (command.http ?? []).find((r) => pathParamsOf(r).every((name) => typeof args[name] === 'string'));
  if (!route) throw new Error(`${command.name} has no HTTP route for the arguments ${Object.keys(args).join(', ') || '(none)'}`);
  return route;
}

/** The route's path with its arguments filled in, each one URL-encoded. */
export function pathFor(route: HttpRoute, args: Record<string, unknown>): string {
  return route.path.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(String(args[name])));
}
