import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Deployment } from '../../domain/deployment.ts';
import type { Alerts } from '../../ports/alerts.ts';
import type { SignedIn } from './console-auth.ts';
import type { PageFrame } from './console-layout.ts';
import { html, type SafeHtml } from './html.ts';
import { emailPreviewDocument, renderOutbox, renderSlackCard, type OutboxViewOptions } from './outbox-view.ts';
import type { StoredAlert } from '../../ports/alert-outbox.ts';

export interface OutboxDeps {
  /** The Slack card of a release as the bot would draw it now (its Block Kit blocks). */
  cardOf?: ((d: Deployment) => { blocks: unknown[] }) | undefined;
  /** The most recent releases, whose cards are shown. */
  recentDeployments?: ((limit: number) => Promise<Deployment[]>) | undefined;
  /** Who an alert's email is from and to, as the email channel would address it. */
  emailAddressesOf?: OutboxViewOptions['emailAddressesOf'];
  /** Who an alert's text goes to, as the SMS channel would number it; and the public URL its text links to. */
  smsRecipientsOf?: OutboxViewOptions['smsRecipientsOf'];
  publicUrl?: string | undefined;
  /** One alert by its number, for its email preview. */
  alertBySeq?: ((seq: number) => Promise<StoredAlert | undefined>) | undefined;
}

interface PageKit {
  page(handler: (request: FastifyRequest, reply: FastifyReply, signedIn: SignedIn) => Promise<FastifyReply | undefined>): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply | undefined>;
  frameFor(signedIn: SignedIn, title: string, extra?: Partial<PageFrame>): PageFrame;
  sendPage(reply: FastifyReply, status: number, frame: PageFrame, body: SafeHtml): FastifyReply;
}

/** The email's own document in a sandboxed frame: its inline styles are allowed there, nothing else. */
const EMAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/**
 * The Outbox: every alert as each channel shows it (the Slack message from its Block Kit, the
 * PagerDuty event, the email in text and HTML, the Discord notice) and the releases' Slack cards —
 * so what the bot says can be seen without any of the four accounts.
 */
export async function outboxSection(app: FastifyInstance, deps: OutboxDeps & { alerts?: Alerts | undefined }, kit: PageKit): Promise<void> {
  app.get('/outbox', kit.page(async (_request, reply, signedIn) => {
    const alerts = (await deps.alerts?.list({ limit: 50 })) ?? [];
    const recent = deps.cardOf && deps.recentDeployments ? await deps.recentDeployments(3) : [];
    const cardOf = deps.cardOf;
    const cards = cardOf
      ? html`<h2>Slack cards</h2>${recent.length === 0 ? html`<p>No release yet.</p>` : recent.map((d) => html`<section class="ob-card-preview" aria-label="Slack card of ${d.id}"><h3>${d.id}: ${d.service} → ${d.environment}</h3>${renderSlackCard(cardOf(d).blocks)}</section>`)}`
      : html``;
    return kit.sendPage(
      reply,
      200,
      kit.frameFor(signedIn, 'Outbox', { section: 'outbox', live: '*', outbox: true }),
      html`<h1>Outbox</h1><p class="hint">What each channel was sent (or would be, with its account configured), as it shows it.</p>${cards}<h2>Alerts</h2>${renderOutbox(alerts, { emailHref: (seq: number) => `/console/outbox/${seq}/email`, emailAddressesOf: deps.emailAddressesOf, smsRecipientsOf: deps.smsRecipientsOf, publicUrl: deps.publicUrl })}`,
    );
  }));
  app.get('/outbox/:seq/email', kit.page(async (request, reply) => {
    const seq = Number((request.params as { seq: string }).seq);
    const alert = Number.isInteger(seq) && seq > 0 ? await deps.alertBySeq?.(seq) : undefined;
    const document = alert ? emailPreviewDocument(alert) : undefined;
    if (!document) {
      reply.callNotFound();
      return reply;
    }
    return reply.header('content-security-policy', EMAIL_CSP).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').type('text/html; charset=utf-8').send(document);
  }));
}
