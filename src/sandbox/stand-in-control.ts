import { z } from 'zod';
import type { CloudflareStandIn } from './cloudflare-stand-in.ts';
import { faultSpecSchema } from './fault-injector.ts';
import { behaviorSchema, parseBehavior, type BehaviorSpec } from './sample-site.ts';

/**
 * The stand-in's control surface over HTTP (`/__stand-in/…` on the API port, no auth: this is a
 * sandbox), so a test can drive a stand-in that runs in another process — for instance beside a
 * `kevin-deploy serve` the test SIGKILLs. It maps one-to-one onto the CloudflareStandIn handle.
 */

export const CONTROL_PREFIX = '/__stand-in/';

export interface ControlResult {
  status: number;
  body: unknown;
}

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

function toBehavior(input: z.infer<typeof behaviorInput>): BehaviorSpec {
  return typeof input === 'string' ? parseBehavior(input) : input;
}

function parseJson(raw: string): unknown {
  return raw.trim() === '' ? {} : JSON.parse(raw);
}

function errorMessage(error: unknown): string {
  if (error instanceof z.ZodError) return z.prettifyError(error);
  return error instanceof Error ? error.message : String(error);
}

export function handleControl(
  standIn: CloudflareStandIn,
  method: string,
  pathname: string,
  rawBody: string,
  extras: ControlExtras = {},
): ControlResult {
  const path = pathname.slice(CONTROL_PREFIX.length - 1); // keep the leading "/"
  const segments = path.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
  try {
    if (method === 'GET' && path === '/state') return { status: 200, body: describe(standIn) };
    if (method === 'GET' && path === '/traffic') {
      if (extras.trafficStats === undefined) {
        return { status: 404, body: { error: 'no traffic collector is attached to this stand-in' } };
      }
      try {
        return { status: 200, body: extras.trafficStats() ?? null };
      } catch (error) {
        return { status: 500, body: { error: errorMessage(error) } };
      }
    }

    if (segments[0] === 'scripts' && segments.length === 3 && method === 'POST') {
      const script = segments[1] as string;
      if (segments[2] === 'versions') {
        const input = newVersionSchema.parse(parseJson(rawBody));
        const version = standIn.addVersion(script, {
          ...(input.tag !== undefined ? { tag: input.tag } : {}),
          ...(input.message !== undefined ? { message: input.message } : {}),
          ...(input.behavior !== undefined ? { behavior: toBehavior(input.behavior) } : {}),
          ...(input.secretsChanged !== undefined ? { secretsChanged: input.secretsChanged } : {}),
        });
        return { status: 201, body: version };
      }
      if (segments[2] === 'deployments') {
        const input = seedDeploymentSchema.parse(parseJson(rawBody));
        standIn.deploy(script, input.split);
        return { status: 201, body: standIn.deployments(script)[0] };
      }
    }

    if (segments[0] === 'versions' && segments[2] === 'behavior' && segments.length === 3 && method === 'PUT') {
      const behavior = toBehavior(behaviorInput.parse(parseJson(rawBody)));
      standIn.setBehavior(segments[1] as string, behavior);
      return { status: 200, body: { id: segments[1], behavior } };
    }

    if (path === '/faults' && method === 'POST') {
      standIn.injectFault(faultSpecSchema.parse(parseJson(rawBody)));
      return { status: 201, body: { pending: standIn.pendingFaults() } };
    }
    if (path === '/faults' && method === 'DELETE') {
      standIn.clearFaults();
      return { status: 200, body: { pending: [] } };
    }
  } catch (error) {
    return { status: 400, body: { error: errorMessage(error) } };
  }
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
    faults: standIn.pendingFaults(),
    apiRequests: standIn.apiRequests(),
  };
}
