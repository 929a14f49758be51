import type { Actor } from '../../domain/policy.ts';
import { html, type SafeHtml } from './html.ts';
import { assetHref } from './console-assets.ts';

export interface PageFrame {
  title: string;
  /** Which navigation entry is this page's (aria-current). */
  section?: 'targets' | 'history' | 'metrics' | 'alerts' | 'outbox' | undefined;
  /** Signed in: the nav and the sign-out form; absent on the sign-in page. */
  signedIn?: { actor: Actor; csrfToken: string } | undefined;
  /**
   * Which deployments' changes reload this page live: ids, or '*' for any. Absent: the page does
   * not follow changes.
   */
  live?: string | undefined;
  /** A message shown above the page: a refusal, or what just happened. */
  notice?: { kind: 'error' | 'ok'; text: string } | undefined;
  /**
   * uPlot is loaded only by release pages: always there, even before the window has a sample, since
   * the chart appears with a live update.
   */
  chart?: boolean | undefined;
  /** The outbox's own stylesheet. */
  outbox?: boolean | undefined;
}

const SECTIONS: Array<[NonNullable<PageFrame['section']>, string, string]> = [
  ['targets', 'Targets', '/console'],
  ['history', 'History', '/console/history'],
  ['metrics', 'Metrics', '/console/metrics'],
  ['alerts', 'Alerts', '/console/alerts'],
  ['outbox', 'Outbox', '/console/outbox'],
];

/**
 * Every console page: a skip link, the navigation, who is signed in, the live indicator, and the
 * page in <main>. The client script only enhances it (live reload, the chart, confirmations):
 * without it every page still reads and every form still works.
 */
export function consolePage(frame: PageFrame, body: SafeHtml): string {
  const signedIn = frame.signedIn;
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} — kevin-deploy</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${assetHref('console.css')}">
${frame.chart ? html`<link rel="stylesheet" href="${assetHref('uPlot.min.css')}">` : ''}
${frame.outbox ? html`<link rel="stylesheet" href="${assetHref('outbox.css')}">` : ''}
<script src="${assetHref('console.js')}" defer></script>
${frame.chart ? html`<script src="${assetHref('uPlot.iife.min.js')}" defer></script>` : ''}
</head>
<body${frame.live ? html` data-live="${frame.live}"` : ''}>
<a class="skip" href="#main">Skip to the page</a>
<header class="top">
<a class="brand" href="/console">kevin-deploy</a>
${
  signedIn
    ? html`<nav aria-label="Console"><ul>${SECTIONS.map(
        ([key, label, href]) => html`<li><a href="${href}"${frame.section === key ? html` aria-current="page"` : ''}>${label}</a></li>`,
      )}</ul></nav>
<div class="who">${frame.live ? html`<span class="live" id="live" role="status" aria-live="polite">Not live yet</span>` : ''}
<span>Signed in as <strong>${signedIn.actor.name}</strong> (${signedIn.actor.roles.join(', ') || 'no roles'})</span>
<form class="inline" method="post" action="/console/sign-out"><input type="hidden" name="_csrf" value="${signedIn.csrfToken}"><button type="submit">Sign out</button></form></div>`
    : ''
}
</header>
<main id="main" tabindex="-1">
${frame.notice ? html`<p class="notice ${frame.notice.kind}" role="${frame.notice.kind === 'error' ? 'alert' : 'status'}">${frame.notice.text}</p>` : ''}
${body}
</main>
</body>
</html>
`.text;
}
