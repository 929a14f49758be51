import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { COMMANDS, runCommand } from '../../../commands/index.ts';
import { actionPromptsFor } from '../../domain/action-prompts.ts';
import type { Deployment, Target } from '../../domain/deployment.ts';
import { ACTION_NAMES, type ActionName } from '../../domain/release-state.ts';
import { KevinDeployError, isKevinDeployError } from '../../errors.ts';
import type { Alerts } from '../../ports/alerts.ts';
import type { ConsoleSessionStore } from '../../ports/console-sessions.ts';
import type { Releases } from '../../ports/releases.ts';
import type { Store } from '../../ports/store.ts';
import type { VersionSummary } from '../../ports/traffic-platform.ts';
import type { ApiTokens } from '../api-tokens.ts';
import { ConsoleAuth, type SignedIn } from './console-auth.ts';
import { consoleAsset } from './console-assets.ts';
import { openChangeStream, type ChangeFeed } from './change-stream.ts';
import { consolePage, type PageFrame } from './console-layout.ts';
import { deliveryMetricsOf } from './delivery-metrics.ts';
import { html, type SafeHtml } from './html.ts';
import { releaseChartOf } from './release-chart.ts';
import { alertsPage } from './pages/alerts-page.ts';
import { historyPage } from './pages/history-page.ts';
import { metricsPage, PERIODS } from './pages/metrics-page.ts';
import { newReleasePage } from './pages/new-release-page.ts';
import { confirmPage, releasePage } from './pages/release-page.ts';
import { signInPage } from './pages/sign-in-page.ts';
import { targetsPage } from './pages/targets-page.ts';
import { outboxSection, type OutboxDeps } from './outbox-section.ts';

export interface ConsoleDeps {
  logger: Logger;
  releases: Releases;
  alerts?: Alerts | undefined;
  store: Store;
  tokens: ApiTokens;
  sessions: ConsoleSessionStore;
  /** Committed changes of any deployment, from this replica's bus and the others' wake signals. */
  changes: ChangeFeed;
  /** Recent versions of a target, for the new-release chooser. */
  listVersions?: ((target: Target) => Promise<VersionSummary[]>) | undefined;
  /** The sandbox's sample-site uploads, when the bot runs in the sandbox. */
  sandbox?: { behaviors: readonly string[]; upload(tag: string, behavior: string): Promise<{ tag: string; id: string }> } | undefined;
  /** What the Outbox view needs beyond the alerts: the Slack card as it would be drawn. */
  outbox?: OutboxDeps | undefined;
  now: () => Date;
}

type Form = Record<string, string>;

/**
 * Only our own files: scripts and styles from /console/assets, the chart's data as JSON in the
 * page, forms back to ourselves, the email preview in a frame of our own. No inline script or style.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** What a redirect after a successful form says; a fixed set, so no text of the URL reaches the page. */
const DONE: Record<string, string> = {
  approve: 'Approved.',
  reject: 'Rejected.',
  promote: 'Promoted.',
  cancel: 'Cancelled.',
  rollback: 'Rollback started.',
  deploy: 'Release requested: green is being staged.',
  lock: 'Locked.',
  unlock: 'Unlocked.',
  acknowledge: 'Acknowledged.',
  upload: 'Uploaded: deploy it below.',
};

const ACTION_ARGS: Record<ActionName, (id: string, form: Form) => Record<string, unknown>> = {
  approve: (id, form) => ({ id, override: form.override === '1' }),
  promote: (id, form) => ({ id, override: form.override === '1' }),
  reject: (id, form) => ({ id, ...(form.comment ? { comment: form.comment } : {}) }),
  cancel: (id) => ({ id }),
  rollback: (id, form) => ({ id, ...(form.comment ? { note: form.comment } : {}) }),
};

function isActionName(text: string): text is ActionName {
  return (ACTION_NAMES as readonly string[]).includes(text);
}

function sendPage(reply: FastifyReply, status: number, frame: PageFrame, body: SafeHtml): FastifyReply {
  return reply
    .code(status)
    .header('content-security-policy', CSP)
    .header('cache-control', 'no-store')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .type('text/html; charset=utf-8')
    .send(consolePage(frame, body));
}

function formOf(request: FastifyRequest): Form {
  const body = request.body;
  return body && typeof body === 'object' && !Array.isArray(body) ? (body as Form) : {};
}

/** A path inside the console to go back to after signing in; anything else goes home. */
function safeNext(next: string | undefined): string {
  return next && /^\/console(\/[A-Za-z0-9/_\-.?=&%]*)?$/.test(next) && !next.startsWith('//') ? next : '/console';
}

/**
 * The operator console at /console: server-rendered pages over the same commands as the API,
 * signed in with the same tokens, refused with the same words. Live through server-sent events.
 */
export async function registerConsoleRoutes(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const auth = new ConsoleAuth({ tokens: deps.tokens, sessions: deps.sessions, now: deps.now });
  const streams = new Set<() => void>();
  app.addHook('preClose', (done) => {
    // Open event streams would keep the server from closing.
    for (const end of streams) end();
    done();
  });

  await app.register(
    async (scope) => {
      scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 16 * 1024 }, (_request, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      });
      scope.setNotFoundHandler(async (request, reply) => {
        const signedIn = await auth.current(request);
        return sendPage(reply, 404, { title: 'Not found', signedIn }, html`<h1>Nothing here</h1><p><a href="/console">Back to the targets</a></p>`);
      });
      scope.setErrorHandler(async (error, request, reply) => {
        const known = isKevinDeployError(error);
        if (!known) deps.logger.error({ err: error, method: request.method, url: request.url }, 'the console failed to answer');
        const status = known ? error.status : 500;
        const text = known ? error.message : 'kevin-deploy failed to answer; the error is in its log.';
        return sendPage(reply, status, { title: 'Error', signedIn: await auth.current(request).catch(() => undefined), notice: { kind: 'error', text } }, html`<p><a href="/console">Back to the targets</a></p>`);
      });

      scope.get('/assets/:name', async (request, reply) => {
        const asset = consoleAsset((request.params as { name: string }).name);
        if (!asset) return reply.code(404).type('text/plain; charset=utf-8').send('no such file\n');
        return reply.header('cache-control', 'public, max-age=31536000, immutable').header('x-content-type-options', 'nosniff').type(asset.type).send(asset.body);
      });

      scope.get('/sign-in', async (request, reply) => {
        const next = safeNext((request.query as { next?: string }).next);
        if (await auth.current(request)) return reply.redirect(next, 303);
        return sendPage(reply, 200, { title: 'Sign in' }, signInPage(next));
      });
      scope.post('/sign-in', async (request, reply) => {
        const form = formOf(request);
        const next = safeNext(form.next);
        const actor = await auth.signIn(request, reply, form.token ?? '');
        if (!actor) {
          return sendPage(reply, 401, { title: 'Sign in', notice: { kind: 'error', text: 'That token is not valid. Use an API token this bot is configured with.' } }, signInPage(next));
        }
        deps.logger.info({ actor: actor.name }, 'signed in to the console');
        return reply.redirect(next, 303);
      });

      // Everything below needs a session; a form also needs its synchronizer token.
      const signedInOrRedirect = async (request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | undefined> => {
        const signedIn = await auth.current(request);
        if (signedIn) {
          if (request.method === 'POST' && !auth.formIsGenuine(request, signedIn, formOf(request)._csrf)) {
            sendPage(reply, 403, { title: 'Form expired', signedIn, notice: { kind: 'error', text: 'This form was not sent from a page of this console, or it has expired. Reload the page and try again.' } }, html``);
            return undefined;
          }
          return signedIn;
        }
        if (request.method === 'GET') reply.redirect(`/console/sign-in?next=${encodeURIComponent(request.url)}`, 303);
        else sendPage(reply, 401, { title: 'Sign in' }, html`<h1>Signed out</h1><p>Your session has ended. <a href="/console/sign-in">Sign in</a> again.</p>`);
        return undefined;
      };
      const page = (
        handler: (request: FastifyRequest, reply: FastifyReply, signedIn: SignedIn) => Promise<FastifyReply | undefined>,
      ) => async (request: FastifyRequest, reply: FastifyReply) => {
        const signedIn = await signedInOrRedirect(request, reply);
        if (!signedIn) return reply;
        return handler(request, reply, signedIn);
      };
      const notice = (request: FastifyRequest): PageFrame['notice'] => {
        const done = (request.query as { done?: string }).done;
        return done && DONE[done] ? { kind: 'ok', text: DONE[done] } : undefined;
      };
      const frameFor = (signedIn: SignedIn, title: string, extra: Partial<PageFrame> = {}): PageFrame => ({ title, signedIn, ...extra });

      scope.post('/sign-out', page(async (request, reply, signedIn) => {
        await auth.signOut(request, reply, signedIn);
        return reply.redirect('/console/sign-in', 303);
      }));

      scope.get('/', page(async (request, reply, signedIn) => {
        const { targets } = await runCommand(COMMANDS.status, {}, { actor: signedIn.actor, releases: deps.releases });
        return sendPage(reply, 200, frameFor(signedIn, 'Targets', { section: 'targets', live: '*', notice: notice(request) }), targetsPage(targets, signedIn.csrfToken));
      }));

      const renderRelease = async (reply: FastifyReply, signedIn: SignedIn, id: string, status: number, pageNotice: PageFrame['notice']) => {
        const view = await runCommand(COMMANDS.show, { id }, { actor: signedIn.actor, releases: deps.releases });
        const { deployment } = await deps.releases.get(view.id);
        const samples = await deps.store.listMetricSamples(deployment.id);
        const settings = deps.releases.target(deployment.service, deployment.environment);
        const chart = releaseChartOf(samples, view.events ?? [], settings, { start: deployment.progress.monitorStartedAt, end: deployment.progress.monitorEndsAt });
        return sendPage(
          reply,
          status,
          frameFor(signedIn, `${view.id} ${view.service} ${view.environment}`, { section: 'history', live: view.id, chart: true, notice: pageNotice }),
          releasePage(view, actionPromptsFor(deployment), chart, signedIn.csrfToken),
        );
      };
      scope.get('/releases/:id', page(async (request, reply, signedIn) => renderRelease(reply, signedIn, (request.params as { id: string }).id, 200, notice(request))));

      scope.get('/releases/:id/:action', page(async (request, reply, signedIn) => {
        const { id, action } = request.params as { id: string; action: string };
        if (!isActionName(action)) {
          reply.callNotFound();
          return reply;
        }
        const { deployment } = await deps.releases.get(id);
        const override = (request.query as { override?: string }).override === '1';
        const prompt = actionPromptsFor(deployment).find((p) => p.action === action && p.override === override);
        // Not offered now (it moved on meanwhile): the release page says where it is.
        if (!prompt?.confirm) return reply.redirect(`/console/releases/${encodeURIComponent(deployment.id)}`, 303);
        return sendPage(reply, 200, frameFor(signedIn, prompt.confirm.title, { section: 'history' }), confirmPage(deps.releases.view(deployment), prompt, signedIn.csrfToken));
      }));

      scope.post('/releases/:id/:action', page(async (request, reply, signedIn) => {
        const { id, action } = request.params as { id: string; action: string };
        if (!isActionName(action)) {
          reply.callNotFound();
          return reply;
        }
        try {
          await runCommand(COMMANDS[action], ACTION_ARGS[action](id, formOf(request)), { actor: signedIn.actor, releases: deps.releases });
        } catch (error) {
          // Refused (four-eyes, a role, the release moved on): the release page, with the refusal in words.
          if (!isKevinDeployError(error) || error.code === 'NOT_FOUND') throw error;
          deps.logger.info({ actor: signedIn.actor.name, action, deploymentId: id, code: error.code }, 'console action refused');
          return renderRelease(reply, signedIn, id, error.status, { kind: 'error', text: error.message });
        }
        return reply.redirect(`/console/releases/${encodeURIComponent(id)}?done=${action}`, 303);
      }));

      scope.get('/releases/new', page(async (request, reply, signedIn) => {
        const { targets } = await runCommand(COMMANDS.status, {}, { actor: signedIn.actor, releases: deps.releases });
        const versions = new Map<string, VersionSummary[]>();
        for (const t of targets) {
          const list = await deps.listVersions?.({ service: t.service, environment: t.environment }).catch(() => []);
          versions.set(`${t.service}/${t.environment}`, list ?? []);
        }
        return sendPage(
          reply,
          200,
          frameFor(signedIn, 'New release', { section: 'targets', notice: notice(request) }),
          newReleasePage({ targets, versions, csrf: signedIn.csrfToken, sandbox: deps.sandbox ? { behaviors: deps.sandbox.behaviors } : undefined }),
        );
      }));
      scope.post('/releases', page(async (request, reply, signedIn) => {
        const form = formOf(request);
        const [service, environment] = (form.target ?? '').split('/');
        const created = await runCommand(
          COMMANDS.deploy,
          { service: service ?? '', environment: environment || undefined, version: form.version ?? '', ...(form.note ? { note: form.note } : {}) },
          { actor: signedIn.actor, releases: deps.releases },
        );
        return reply.redirect(`/console/releases/${encodeURIComponent(created.id)}?done=deploy`, 303);
      }));
      if (deps.sandbox) {
        const sandbox = deps.sandbox;
        scope.post('/sandbox/upload', page(async (request, reply) => {
          const form = formOf(request);
          await sandbox.upload(form.tag ?? '', form.behavior ?? 'healthy');
          return reply.redirect('/console/releases/new?done=upload', 303);
        }));
      }

      scope.post('/locks', page(async (request, reply, signedIn) => {
        const form = formOf(request);
        await runCommand(
          COMMANDS.lock,
          { service: form.service ?? '', environment: form.environment || undefined, reason: form.reason ?? '', ...(form.expiresAfter ? { expiresAfter: form.expiresAfter } : {}) },
          { actor: signedIn.actor, releases: deps.releases },
        );
        return reply.redirect('/console?done=lock', 303);
      }));
      scope.post('/locks/unlock', page(async (request, reply, signedIn) => {
        const form = formOf(request);
        await runCommand(COMMANDS.unlock, { service: form.service ?? '', environment: form.environment || undefined }, { actor: signedIn.actor, releases: deps.releases });
        return reply.redirect('/console?done=unlock', 303);
      }));

      scope.get('/history', page(async (request, reply, signedIn) => {
        const query = request.query as Record<string, string | undefined>;
        const filter = { target: query.target ?? '', stage: query.stage ?? '', kind: query.kind ?? '' };
        const [service, environment] = filter.target ? filter.target.split('/') : [];
        const { targets } = await runCommand(COMMANDS.status, {}, { actor: signedIn.actor, releases: deps.releases });
        const deployments = await deps.store.listDeployments({
          service: service || undefined,
          environment: environment || undefined,
          stages: filter.stage ? [filter.stage as Deployment['stage']] : undefined,
          kind: filter.kind === 'release' || filter.kind === 'rollback' ? filter.kind : undefined,
          limit: 100,
        });
        return sendPage(
          reply,
          200,
          frameFor(signedIn, 'History', { section: 'history', live: '*' }),
          historyPage(deployments.map((d) => deps.releases.view(d)), filter, targets.map((t) => `${t.service}/${t.environment}`)),
        );
      }));

      scope.get('/metrics', page(async (request, reply, signedIn) => {
        const asked = Number((request.query as { days?: string }).days ?? 30);
        const days = (PERIODS as readonly number[]).includes(asked) ? asked : 30;
        const now = deps.now();
        const since = new Date(now.getTime() - days * 86_400_000).toISOString();
        const deployments = await deps.store.listDeployments({ kind: 'release', createdSince: since, limit: 10_000 });
        return sendPage(reply, 200, frameFor(signedIn, 'Deployment metrics', { section: 'metrics', live: '*' }), metricsPage(deliveryMetricsOf(deployments, days, now)));
      }));

      scope.get('/alerts', page(async (request, reply, signedIn) => {
        const alerts = (await deps.alerts?.list({ limit: 100 })) ?? [];
        return sendPage(reply, 200, frameFor(signedIn, 'Alerts', { section: 'alerts', live: '*', notice: notice(request) }), alertsPage(alerts, signedIn.csrfToken));
      }));
      scope.post('/alerts/acknowledge', page(async (request, reply, signedIn) => {
        const incidentKey = formOf(request).incidentKey ?? '';
        if (!deps.alerts) throw new KevinDeployError('NOT_FOUND', 'alerting is not running');
        const result = await deps.alerts.acknowledge(incidentKey, signedIn.actor.name, 'cli');
        if (result.status === 'unknown') throw new KevinDeployError('NOT_FOUND', `no alert with incident ${incidentKey}`);
        return reply.redirect('/console/alerts?done=acknowledge', 303);
      }));

      await outboxSection(scope, { ...deps.outbox, alerts: deps.alerts }, { page, frameFor, sendPage });

      scope.get('/events', page(async (request, reply) => {
        openChangeStream(request, reply, deps.changes, streams);
        return reply;
      }));
    },
    { prefix: '/console' },
  );
}
