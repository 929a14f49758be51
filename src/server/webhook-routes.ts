import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { CommunityStatus } from '../adapters/discord/discord-interactions.ts';
import { handleDiscordInteraction, verifyDiscordRequest } from '../adapters/discord/discord-interactions.ts';
import { parsePagerDutyWebhook, verifyPagerDutySignature } from '../adapters/pagerduty/pagerduty-webhook.ts';
import type { Alerts } from '../ports/alerts.ts';
import { KevinDeployError } from '../errors.ts';
import { BODY_LIMIT_BYTES } from './body-limit.ts';
import { sendProblem } from './problem-handler.ts';

export interface WebhookDeps {
  logger: Logger;
  /** PagerDuty V3 webhook signing secrets (several during a rotation); the route is off without one. */
  pagerDutySecrets: string[];
  /** The Discord application's public key (hex); the route is off without it. */
  discordPublicKey: string | undefined;
  alerts: Alerts;
  communityStatus(): Promise<CommunityStatus>;
}

/** Discord rejects interactions signed longer ago than this (replays); PagerDuty's signature has no timestamp. */
const DISCORD_MAX_SKEW_S = 5 * 60;

/**
 * Inbound webhooks that sign their raw body: PagerDuty (HMAC-SHA256, `X-PagerDuty-Signature`) and
 * Discord interactions (Ed25519 over timestamp + body). Both are verified before anything is
 * parsed; a bad or missing signature is 401 and changes nothing. Each lives in its own fastify
 * context with a raw-body parser, so the rest of the API keeps its JSON parser. Their answers are
 * what the protocols ask for (202 to PagerDuty, PONG to Discord's PING); their refusals are
 * problems from the catalogue like every other error.
 */
export async function registerWebhookRoutes(app: FastifyInstance, deps: WebhookDeps): Promise<void> {
  await app.register(async (hooks) => {
    hooks.removeAllContentTypeParsers();
    hooks.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT_BYTES }, (_request, body, done) => done(null, body));

    hooks.post('/pagerduty/webhooks', async (request, reply) => {
      if (deps.pagerDutySecrets.length === 0) {
        throw new KevinDeployError('NOT_FOUND', 'PagerDuty webhooks are not configured (set PAGERDUTY_WEBHOOK_SECRET)');
      }
      const raw = asBuffer(request.body);
      const signature = headerOf(request.headers['x-pagerduty-signature']);
      if (!verifyPagerDutySignature(raw, signature, deps.pagerDutySecrets)) {
        deps.logger.warn({ from: request.ip }, 'rejected a PagerDuty webhook with a bad or missing signature');
        throw new KevinDeployError('INVALID_SIGNATURE', 'X-PagerDuty-Signature is missing or does not sign this body with the webhook secret; nothing was changed');
      }
      const event = parsePagerDutyWebhook(raw);
      // Anything else PagerDuty sends (pings, other resources) is accepted and ignored, so it does not retry it.
      if (!event || !event.incidentKey) return reply.code(202).send({ status: 'ignored' });
      const by = event.agent ? `${event.agent} (PagerDuty)` : 'PagerDuty';
      const result =
        event.eventType === 'incident.acknowledged'
          ? await deps.alerts.acknowledge(event.incidentKey, by, 'pagerduty')
          : event.eventType === 'incident.resolved'
            ? await deps.alerts.resolve(event.incidentKey, by, 'pagerduty')
            : undefined;
      deps.logger.info({ eventType: event.eventType, incidentKey: event.incidentKey, result: result?.status ?? 'ignored' }, 'PagerDuty webhook');
      return reply.code(202).send({ status: result?.status ?? 'ignored' });
    });

    hooks.post('/discord/interactions', async (request, reply) => {
      if (!deps.discordPublicKey) {
        throw new KevinDeployError('NOT_FOUND', 'Discord interactions are not configured (set DISCORD_PUBLIC_KEY)');
      }
      const raw = asBuffer(request.body);
      const signature = headerOf(request.headers['x-signature-ed25519']);
      const timestamp = headerOf(request.headers['x-signature-timestamp']);
      const fresh = timestamp !== undefined && /^\d+$/.test(timestamp) && Math.abs(Date.now() / 1000 - Number(timestamp)) <= DISCORD_MAX_SKEW_S;
      if (!signature || !timestamp || !fresh || !verifyDiscordRequest(raw, signature, timestamp, deps.discordPublicKey)) {
        throw new KevinDeployError(
          'INVALID_SIGNATURE',
          'X-Signature-Ed25519 and X-Signature-Timestamp are missing, older than 5 minutes, or do not sign this body with the application key',
        );
      }
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new KevinDeployError('INVALID_JSON', 'the interaction body is not valid JSON');
      }
      const answer = await handleDiscordInteraction(body, { communityStatus: deps.communityStatus });
      if (answer.status >= 400) return sendProblem(reply, new KevinDeployError('USAGE', refusalText(answer.body)));
      return reply.code(answer.status).send(answer.body ?? null);
    });
  });
}

/** The words of a refusal from the interaction handler (`{error: "…"}`), for the problem's detail. */
function refusalText(body: unknown): string {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  return typeof error === 'string' ? error : 'not a Discord interaction kevin-deploy can answer';
}

function asBuffer(body: unknown): Buffer {
  return Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : '');
}

function headerOf(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
