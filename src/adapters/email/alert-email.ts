import { formatDuration } from '../../domain/format-duration.ts';
import type { Alert, AlertLevel } from '../../domain/alert.ts';
import { alertOutcome, isTeamAlertKind, type TeamAlertKind } from '../../domain/alert-outcome.ts';

/**
 * An alert as an email: a subject that sorts in an inbox ("[CRITICAL] kevinstamp production:
 * rolled back automatically"), a plain-text body and an HTML body saying the same things. Pure:
 * no clock — the only time shown is `alert.createdAt`, so an email delivered late (after an
 * outage of the mail API) still says when it happened.
 *
 * HTML is built from escaped text only: a reason may quote anything a deployed app answered,
 * `<script>` included. No external images or styles, so nothing is fetched when it is opened.
 */

export interface AlertEmail {
  subject: string;
  text: string;
  html: string;
}

/** PagerDuty change events and community posts are not emails. */
export type EmailAlertKind = TeamAlertKind;
export const isEmailAlertKind = isTeamAlertKind;

const LEVEL_COLOURS: Record<AlertLevel, string> = {
  // White text on each of these passes WCAG AA; the level is also spelled out, never colour alone.
  info: '#0969da',
  warning: '#9a6700',
  critical: '#cf222e',
  emergency: '#82071e',
};

const MAX_SUBJECT = 200;
const MAX_VALUES_SHOWN = 20;

type Row = [label: string, value: string];

/** What both bodies show, in order; the two renderers only differ in markup. */
interface EmailModel {
  level: string;
  where: string;
  title: string;
  facts: Row[];
  triggerName?: string | undefined;
  trigger: Row[];
  links: Array<{ href: string; text: string }>;
  raisedAt: string;
  footer: Row[];
}

export function renderAlertEmail(alert: Alert): AlertEmail {
  const subject = subjectOf(alert);
  const model = modelOf(alert);
  return { subject, text: textOf(model), html: htmlOf(model, subject) };
}

function subjectOf(alert: Alert): string {
  const outcome = isTeamAlertKind(alert.kind) ? alertOutcome({ ...alert, kind: alert.kind }) : alert.title;
  const subject = `[${alert.level.toUpperCase()}] ${alert.facts.service} ${alert.facts.environment}: ${outcome}`;
  // One line, always: a newline in a subject would be a header injection or a broken message.
  return truncate(oneLine(subject), MAX_SUBJECT);
}

function modelOf(alert: Alert): EmailModel {
  const f = alert.facts;
  const facts: Row[] = [];
  facts.push(['Reason', f.reason]);
  facts.push(['Stage', f.stage]);
  const version = versionText(f.version);
  if (version) facts.push(['Version', version]);
  const previous = versionText(f.previousVersion);
  if (previous) facts.push(['Previous version', previous]);
  if (f.requestedBy) facts.push(['Requested by', f.requestedBy]);
  facts.push(['Deployment', f.deploymentId]);
  const details = f.triggerDetails && Object.keys(f.triggerDetails).length > 0 ? f.triggerDetails : undefined;
  // Without details the trigger is one more fact; with them it gets its own section.
  if (f.trigger && !details) facts.push(['Trigger', f.trigger]);

  const footer: Row[] = [['Alert', alert.id]];
  if (alert.incidentKey) footer.push(['Incident', alert.incidentKey]);

  return {
    level: alert.level.toUpperCase(),
    where: `${f.service} ${f.environment}`,
    title: alert.title,
    facts,
    triggerName: details ? f.trigger : undefined,
    trigger: details ? triggerRows(details) : [],
    links: f.links ?? [],
    raisedAt: utc(alert.createdAt),
    footer,
  };
}

// ---------------------------------------------------------------------------------------------
// Trigger details: whatever the trigger recorded (for metric triggers an Evaluation: signal,
// verdict, values, threshold, unit, window, samples, source, summary), as label/value lines.

const TRIGGER_ORDER = ['summary', 'signal', 'verdict', 'values', 'threshold', 'sustainedForMs', 'samples', 'source'];
const TRIGGER_LABELS: Record<string, string> = {
  summary: 'Summary',
  signal: 'Signal',
  verdict: 'Verdict',
  values: 'Values (oldest first)',
  threshold: 'Threshold',
  sustainedForMs: 'Window',
  samples: 'Samples',
  source: 'Source',
};
/** Keys whose numbers are in the details' `unit`. */
const UNIT_KEYS = new Set(['values', 'threshold', 'value', 'observed', 'green', 'blue']);

function triggerRows(details: Record<string, unknown>): Row[] {
  const unit = typeof details.unit === 'string' ? details.unit : undefined;
  const keys = [
    ...TRIGGER_ORDER.filter((k) => k in details),
    // `unit` is shown with the numbers it qualifies, not on its own.
    ...Object.keys(details).filter((k) => !TRIGGER_ORDER.includes(k) && k !== 'unit'),
  ];
  const rows: Row[] = [];
  for (const key of keys) {
    const value = details[key];
    if (value === undefined) continue;
    rows.push([TRIGGER_LABELS[key] ?? humanize(key), readable(key, value, UNIT_KEYS.has(key) ? unit : undefined, 0)]);
  }
  return rows;
}

function readable(key: string, value: unknown, unit: string | undefined, depth: number): string {
  if (value === null) return 'n/a';
  if (typeof value === 'number') {
    if (/Ms$/.test(key) && Number.isFinite(value) && value >= 0) return formatDuration(Math.round(value));
    return withUnit(value, unit);
  }
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  if (typeof value === 'string') return /At$/.test(key) && !Number.isNaN(Date.parse(value)) ? utc(value) : value;
  if (Array.isArray(value)) {
    const shown = value.length > MAX_VALUES_SHOWN ? value.slice(-MAX_VALUES_SHOWN) : value;
    const items = shown.map((v) => readable(key, v, unit, depth + 1));
    const earlier = value.length - shown.length;
    return (earlier > 0 ? [`… ${earlier} earlier`, ...items] : items).join(', ') || 'none';
  }
  if (typeof value === 'object') {
    if (depth >= 3) return '…';
    return Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${humanize(k).toLowerCase()} ${readable(k, v, UNIT_KEYS.has(k) ? unit : undefined, depth + 1)}`)
      .join('; ');
  }
  return String(value);
}

function withUnit(n: number, unit: string | undefined): string {
  const text = formatNumber(n);
  if (!unit) return text;
  return `${text} ${unit}`;
}

/** Enough digits to compare with a threshold, not the float noise of a computed rate. */
function formatNumber(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Number.isInteger(n)) return String(n);
  const abs = Math.abs(n);
  return String(abs >= 1 ? Math.round(n * 100) / 100 : Number(n.toPrecision(3)));
}

/** `sustainedFor` → "Sustained for", `errorRatePercent` → "Error rate percent". */
function humanize(key: string): string {
  const words = key
    .replace(/Ms$/, '')
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

// ---------------------------------------------------------------------------------------------
// Plain text

function textOf(m: EmailModel): string {
  // The time sits under the title: an email that arrives late must say so before anything else.
  const lines: string[] = [`${m.level} · ${m.where}`, '', m.title, `Raised at ${m.raisedAt}.`, ''];
  lines.push(...aligned(m.facts));
  if (m.trigger.length > 0) {
    lines.push('', m.triggerName ? `Trigger: ${m.triggerName}` : 'Trigger', ...aligned(m.trigger).map((l) => `  ${l}`));
  }
  if (m.links.length > 0) {
    lines.push('', 'Links', ...m.links.map((l) => `  ${l.text}: ${l.href}`));
  }
  lines.push('', m.footer.map(([k, v]) => `${k} ${v}`).join(' · '), '', '-- ', 'Sent by kevin-deploy.');
  return `${lines.join('\n')}\n`;
}

/** "Label:   value", labels padded to one column; continuation lines of a value indented under it. */
function aligned(rows: Row[]): string[] {
  const width = Math.max(0, ...rows.map(([label]) => label.length)) + 2;
  return rows.map(([label, value]) => {
    const [first = '', ...rest] = value.split(/\r?\n/);
    const head = `${`${label}:`.padEnd(width)}${first}`;
    return [head, ...rest.map((line) => `${' '.repeat(width)}${line}`)].join('\n');
  });
}

// ---------------------------------------------------------------------------------------------
// HTML

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Helvetica,Arial,sans-serif";
const TH = 'text-align:left;vertical-align:top;padding:4px 16px 4px 0;font-weight:600;white-space:nowrap;';
const TD = 'vertical-align:top;padding:4px 0;white-space:pre-wrap;word-break:break-word;';

function htmlOf(m: EmailModel, subject: string): string {
  const parts: string[] = [];
  parts.push(
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(subject)}</title>`,
    '</head>',
    `<body style="margin:0;padding:16px;background:#ffffff;color:#1f2328;font-family:${FONT};font-size:15px;line-height:1.5;">`,
    `<div role="article" aria-label="${esc(subject)}" style="max-width:640px;margin:0 auto;">`,
    `<p style="margin:0 0 8px;"><span style="display:inline-block;padding:2px 8px;border-radius:4px;background:${levelColour(m.level)};color:#ffffff;font-weight:700;letter-spacing:0.03em;">${esc(m.level)}</span> <strong>${esc(m.where)}</strong></p>`,
    `<h1 style="margin:0 0 4px;font-size:20px;line-height:1.3;">${esc(m.title)}</h1>`,
    `<p style="margin:0 0 16px;color:#57606a;">Raised at ${esc(m.raisedAt)}.</p>`,
    table(m.facts, 'What happened'),
  );
  if (m.trigger.length > 0) {
    parts.push(
      `<h2 style="margin:20px 0 8px;font-size:16px;">${esc(m.triggerName ? `Trigger: ${m.triggerName}` : 'Trigger')}</h2>`,
      table(m.trigger, 'Trigger details'),
    );
  }
  if (m.links.length > 0) {
    parts.push('<h2 style="margin:20px 0 8px;font-size:16px;">Links</h2>', '<ul style="margin:0;padding-left:20px;">');
    for (const link of m.links) parts.push(`<li>${anchor(link)}</li>`);
    parts.push('</ul>');
  }
  parts.push(
    `<p style="margin:24px 0 0;color:#57606a;font-size:13px;">${m.footer.map(([k, v]) => `${esc(k)} <code>${esc(v)}</code>`).join(' · ')}</p>`,
    '<p style="margin:8px 0 0;color:#57606a;font-size:13px;">Sent by kevin-deploy.</p>',
    '</div>',
    '</body>',
    '</html>',
  );
  return `${parts.join('\n')}\n`;
}

/** A real data table (row headers), so screen readers announce "Reason: …". */
function table(rows: Row[], caption: string): string {
  const body = rows.map(([label, value]) => `<tr><th scope="row" style="${TH}">${esc(label)}</th><td style="${TD}">${esc(value)}</td></tr>`);
  return [
    '<table style="border-collapse:collapse;">',
    `<caption style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);">${esc(caption)}</caption>`,
    ...body,
    '</table>',
  ].join('\n');
}

/** Only web links become anchors: anything else (javascript:, data:) is shown as text. */
function anchor(link: { href: string; text: string }): string {
  if (!/^https?:\/\//i.test(link.href)) return `${esc(link.text)}: ${esc(link.href)}`;
  return `<a href="${esc(link.href)}" style="color:#0969da;">${esc(link.text)}</a>`;
}

function levelColour(level: string): string {
  return LEVEL_COLOURS[level.toLowerCase() as AlertLevel] ?? '#57606a';
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c] ?? c);
}
const esc = escapeHtml;
const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// ---------------------------------------------------------------------------------------------

function versionText(v: { id: string; tag?: string | undefined } | undefined): string | undefined {
  if (!v) return undefined;
  const short = v.id.slice(0, 8);
  return v.tag ? `${v.tag} (${short})` : short;
}

/** "2026-11-26 09:00:00 UTC"; a value that is not a time is shown as given rather than lost. */
function utc(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
