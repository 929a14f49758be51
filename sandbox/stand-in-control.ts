import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CloudflareStandIn } from './stand-in-handle.ts';
import { faultSpecSchema } from './fault-injector.ts';
import { behaviorSchema, parseBehavior, type BehaviorSpec } from './sample-site.ts';

/**
 * The stand-in's control surface over HTTP (`/__stand-in/…` on the API port, no auth: this is a
 * sandbox), so a test can drive a stand-in that runs in another process — for instance beside a
 * `kevin-deploy serve` the test SIGKILLs. It maps one-to-one onto the CloudflareStandIn handle.
 */

export const CONTROL_PREFIX = '/__stand-in/';

export interface ControlExtras {
  /** What `GET /__stand-in/traffic` answers; the route is 404 while this is undefined. */
  trafficStats?: (() => unknown) | undefined;
}

/** A behaviour as JSON: either a BehaviorSpec object or a preset string such as "erroring:20". */
const behaviorInput = z.union([z.string(), behaviorSchema]);

const newVersionSchema = z
  .object({
    tag: z.string().optional(),
    message: z.string().optional(),
    behavior: behaviorInput.optional(),
    secretsChanged: z.boolean().optional(),
  })
  .strict();

const seedDeploymentSchema = z.object({ split: z.record(z.string(), z.number()) }).strict();

const routeScriptSchema = z.object({ pattern: z.string().min(1), script: z.string().min(1).nullable() }).strict();

function toBehavior(input: z.infer<typeof behaviorInput>): BehaviorSpec {
  return typeof input === 'string' ? parseBehavior(input) : input;
}

function parseJson(raw: unknown): unknown {
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : '';
  return text.trim() === '' ? {} : JSON.parse(text);
}

function errorMessage(error: unknown): string {
  if (error instanceof z.ZodError) return z.prettifyError(error);
  return error instanceof Error ? error.message : String(error);
}

type Params = Record<string, string>;

/**
 * Registers the control routes on the stand-in's fastify app (whose content-type parser hands
 * every body over as a Buffer). `extras` is read at each request: a traffic collector may be
 * attached after the stand-in started.
 */
export function registerControlRoutes(app: FastifyInstance, standIn: CloudflareStandIn, extras: () => ControlExtras): void {
  const route = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, answer: (params: Params, body: unknown) => { status: number; body: unknown }) => {
    app.route({
      method,
      url: `${CONTROL_PREFIX}${path}`,
      handler: async (request, reply) => {
        let result: { status: number; body: unknown };
        try {
          result = answer(request.params as Params, request.body);
        } catch (error) {
          result = { status: 400, body: { error: errorMessage(error) } };
        }
        return reply.code(result.status).header('content-type', 'application/json').send(Buffer.from(JSON.stringify(result.body)));
      },
    });
  };

  route('GET', 'state', () => ({ status: 200, body: describe(standIn) }));
  route('GET', 'traffic', () => {
    const stats = extras().trafficStats;
    if (stats === undefined) return { status: 404, body: { error: 'no traffic collector is attached to this stand-in' } };
    try {
      return { status: 200, body: stats() ?? null };
    } catch (error) {
      return { status: 500, body: { error: errorMessage(error) } };
    }
  });
  route('POST', 'scripts/:script/versions', ({ script }, body) => {
    const input = newVersionSchema.parse(parseJson(body));
    const version = standIn.addVersion(script as string, {
      ...(input.tag !== undefined ? { tag: input.tag } : {}),
      ...(input.message !== undefined ? { message: input.message } : {}),
      ...(input.behavior !== undefined ? { behavior: toBehavior(input.behavior) } : {}),
      ...(input.secretsChanged !== undefined ? { secretsChanged: input.secretsChanged } : {}),
    });
    return { status: 201, body: version };
  });
  route('POST', 'scripts/:script/deployments', ({ script }, body) => {
    const input = seedDeploymentSchema.parse(parseJson(body));
    standIn.deploy(script as string, input.split);
    return { status: 201, body: standIn.deployments(script as string)[0] };
  });
  route('PUT', 'versions/:id/behavior', ({ id }, body) => {
    const behavior = toBehavior(behaviorInput.parse(parseJson(body)));
    standIn.setBehavior(id as string, behavior);
    return { status: 200, body: { id, behavior } };
  });
  route('PUT', 'routes', (_params, body) => {
    const input = routeScriptSchema.parse(parseJson(body));
    standIn.setRouteScript(input.pattern, input.script);
    return { status: 200, body: { pattern: input.pattern, serving: standIn.zones().flatMap((z) => standIn.workerRoutes(z.id)).find((r) => r.pattern === input.pattern) } };
  });
  route('POST', 'faults', (_params, body) => {
    standIn.injectFault(faultSpecSchema.parse(parseJson(body)));
    return { status: 201, body: { pending: standIn.pendingFaults() } };
  });
  route('DELETE', 'faults', () => {
    standIn.clearFaults();
    return { status: 200, body: { pending: [] } };
  });
}

/** What an unknown `/__stand-in/…` request gets. */
export function unknownControlRoute(method: string, pathname: string): { status: number; body: unknown } {
  return { status: 404, body: { error: `no stand-in control route ${method} ${pathname}` } };
}

function describe(standIn: CloudflareStandIn): unknown {
  return {
    apiBaseUrl: standIn.apiBaseUrl,
    scripts: Object.fromEntries(
      standIn.scripts().map((script) => [
        script,
        {
          trafficUrl: standIn.trafficUrl(script),
          previewUrlTemplate: standIn.previewUrlTemplate(script),
          versions: standIn.versions(script),
          deployments: standIn.deployments(script),
          activeSplit: standIn.activeSplit(script),
          effectiveSwitches: standIn.effectiveSwitches(script),
          servedBy: standIn.servedBy(script),
        },
      ]),
    ),
    zones: standIn.zones().map((zone) => ({ ...zone, routes: standIn.workerRoutes(zone.id) })),
    customDomains: standIn.customDomains(),
    hosts: Object.fromEntries(standIn.hostnames().map((hostname) => [hostname, { url: standIn.hostUrl(hostname), servedBy: standIn.servedByHost(hostname) }])),
    routingChanges: standIn.routingChanges(),
    faults: standIn.pendingFaults(),
    apiRequests: standIn.apiRequests(),
  };
}
