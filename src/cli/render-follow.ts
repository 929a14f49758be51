import type { DeploymentView } from '../domain/deployment-view.ts';
import { describeEvaluation, splitLine } from './render.ts';
import { formatTime, formatTimesIn } from './time-format.ts';

/**
 * One look at a release for `--follow`: its stage, its reason and the details known so far
 * (checks, split, metrics). `key` is what counts as a change worth a new line.
 */
export interface FollowFrame {
  stage: DeploymentView['stage'];
  reason: string;
  details: Array<{ label: string; text: string }>;
  key: string;
}

const TIME_WIDTH = 20; // "2026-05-01 12:00:00Z"
const INDENT = ' '.repeat(TIME_WIDTH + 2);
const LABEL_WIDTH = 8;

export function followFrame(d: DeploymentView): FollowFrame {
  const details: FollowFrame['details'] = [];
  const checks = d.checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}`).join('  ');
  if (checks) details.push({ label: 'checks', text: checks });
  // Only what is known: before the release read Cloudflare there is no split to show.
  const split = splitLine(d);
  if (split) details.push({ label: 'split', text: split });
  if (d.evaluations.length > 0) {
    details.push({ label: 'metrics', text: d.evaluations.map(describeEvaluation).join(`\n${INDENT}${' '.repeat(LABEL_WIDTH + 1)}`) });
  }
  const reason = formatTimesIn(d.reason);
  const key = JSON.stringify([
    d.stage,
    // Each clean sample only counts up ("watching: 4 clean sample(s)…"): not a change worth a line.
    reason.replace(/\b\d+ clean sample\(s\)/g, 'N clean sample(s)'),
    d.checks.map((c) => [c.name, c.ok]),
    d.split,
    // Whether a trigger is clear, building or fired — not each new figure.
    d.evaluations.map((e) => [e.signal, e.verdict]),
    d.canary ?? null,
    d.pausedBecause,
  ]);
  return { stage: d.stage, reason, details, key };
}

/**
 * The lines for a frame that changed: the time, the stage and the reason, then each detail that
 * is new or different since the last frame printed (all of them when the stage changed).
 */
export function renderFollowFrame(frame: FollowFrame, previous: FollowFrame | undefined, at: Date, traffic?: string): string {
  const lines = [`${formatTime(at)}  ${frame.stage.padEnd(18)} ${frame.reason}`];
  const stageChanged = !previous || previous.stage !== frame.stage;
  for (const { label, text } of frame.details) {
    const before = previous?.details.find((x) => x.label === label)?.text;
    if (stageChanged || before !== text) lines.push(`${INDENT}${label.padEnd(LABEL_WIDTH)} ${text}`);
  }
  if (traffic) lines.push(`${INDENT}${'traffic'.padEnd(LABEL_WIDTH)} ${traffic}`);
  return lines.join('\n');
}
