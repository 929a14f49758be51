import { pathFor, pathParamsOf, routeFor } from '../../commands/http-routes.ts';
import type { AnyCommand } from '../../commands/index.ts';
import type { ApiClient } from './api-client.ts';

/**
 * Sends a command to the bot over the route the command table declares for it — the client side
 * of the same declaration the server registers its routes from. Arguments in the path fill it;
 * the others go in the query or the body, as the route says.
 */
export function sendCommand<T>(api: ApiClient, command: AnyCommand, args: Record<string, unknown>): Promise<T> {
  const route = routeFor(command, args);
  const inPath = pathParamsOf(route);
  const rest = Object.fromEntries(Object.entries(args).filter(([name]) => !inPath.includes(name)));
  const path = pathFor(route, args);
  switch (route.method) {
    case 'GET': {
      const query = route.input === 'query' ? Object.fromEntries(Object.entries(rest).map(([name, value]) => [name, value === undefined ? undefined : String(value)])) : {};
      return api.get<T>(path, query);
    }
    case 'POST':
      return api.post<T>(path, route.input === 'body' ? rest : {});
    case 'DELETE':
      return api.delete<T>(path);
  }
}
