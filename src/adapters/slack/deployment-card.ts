import type { types } from '@slack/bolt';
import { buttonActionId } from '../../../commands/card-buttons.ts';
import type { TargetSettings } from '../../config/schema.ts';
import { formatDuration } from '../../domain/format-duration.ts';
import { versionLabel, type Deployment, type VersionInfo } from '../../domain/deployment.ts';
import { describeSplit } from '../../domain/split.ts';
import { stateOf } from '../../domain/release-state.ts';
import { actionPromptsFor, type ActionPrompt } from '../../domain/action-prompts.ts';
import { stageLabel } from '../../domain/stage-words.ts';
import type { Stage } from '../../domain/stages.ts';
import { stepsOf } from '../../domain/canary-steps.ts';
import { actorMention, escapeMrkdwn, mrkdwn, plain, type People } from './mrkdwn.ts';

export interface Card {
  text: string;
  blocks: types.KnownBlock[];
}

const RELEASE_PATH: Stage[] = ['resolving', 'staging', 'verifying', 'awaiting_approval', 'switching', 'monitoring', 'succeeded'];
const ROLLBACK_PATH: Stage[] = ['rolling_back', 'rolled_back'];

const STAGE_ICON: Record<Stage, string> = {
  requested: ':hourglass_flowing_sand:',
  resolving: ':mag:',
  staging: ':package:',
  verifying: ':stethoscope:',
  awaiting_approval: ':raised_hand:',
  switching: ':twisted_rightwards_arrows:',
  monitoring: ':eyes:',
  succeeded: ':white_check_mark:',
  rolling_back: ':rewind:',
  rolled_back: ':leftwards_arrow_with_hook:',
  needs_attention: ':rotating_light:',
  failed: ':x:',
  rejected: ':no_entry_sign:',
  expired: ':alarm_clock:',
  cancelled: ':heavy_multiplication_x:',
};

function clock(iso: string | undefined): string {
  return iso ? iso.slice(11, 19) : '';
}

/**
 * The one message per release, rendered from the persisted status alone (so it can be redrawn
 * at any time, after any restart): what, where, who, the stage checklist with times, the last
 * checks, the split, the monitoring figures against their limits, and the buttons that make
 * sense now. User-written text (notes, reasons that quote comments) is plain_text only.
 */
export function renderDeploymentCard(
  d: Deployment,
  settings: TargetSettings,
  extra: { queuePosition?: number | null; people?: People } = {},
): Card {
  const people = extra.people ?? new Map<string, string>();
  const target = `${d.service} → ${d.environment}`;
  const named = d.version ? versionLabel(d.version) : d.versionRef;
  const what = d.kind === 'release' ? named : `rollback to ${named}`;
  const icon = STAGE_ICON[d.stage];
  // The fallback text shows in notifications: the version may be typed by a person or tagged by CI.
  const text = `${target}: ${escapeMrkdwn(what)} — ${stageLabel(d.stage)}`;
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: plain(`${d.kind === 'release' ? 'Release' : 'Rollback'} ${d.service} → ${d.environment}`, 150) },
    {
      type: 'section',
      fields: [
        mrkdwn(`*Version*\n${d.version ? code(d.version) : `\`${safe(d.versionRef)}\``}`),
        mrkdwn(`*${d.kind === 'release' ? 'Blue (rollback target)' : 'Replacing'}*\n${d.previousVersion ? code(d.previousVersion) : '—'}`),
        mrkdwn(`*Environment*\n${d.environment}${settings.protected ? ' (protected)' : ''}`),
        mrkdwn(`*Requested by*\n${actorMention(d.requestedBy, people)}`),
      ],
    },
    { type: 'section', text: mrkdwn(`${icon} *${stageLabel(d.stage)}*${extra.queuePosition ? ` — position ${extra.queuePosition} in the queue` : ''}${canaryLine(d, settings)}`) },
    { type: 'context', elements: [plain(d.reason, 2000)] },
  ];
  if (d.note) blocks.push({ type: 'context', elements: [mrkdwn('*Note*'), plain(d.note, 1000)] });
  blocks.push({ type: 'section', text: mrkdwn(checklist(d)) });
  const checks = d.progress.lastChecks ?? [];
  if (checks.length > 0) {
    blocks.push({
      type: 'context',
      elements: [plain(checks.map((c) => `${c.ok ? '✓' : '✗'} ${c.name}: ${c.detail}`).join('  ·  '), 2000)],
    });
  }
  const traffic = Object.keys(d.split).length > 0 ? describeSplit(d.split, [d.version, d.previousVersion]) : 'not read yet';
  blocks.push({ type: 'context', elements: [mrkdwn('*Traffic*'), plain(traffic)] });
  if (d.stage === 'monitoring') blocks.push({ type: 'context', elements: [mrkdwn(monitoringFigures(d, settings))] });
  const evaluations = d.progress.lastEvaluations ?? [];
  if (evaluations.length > 0 && (d.stage === 'monitoring' || d.stage === 'succeeded' || d.stage === 'rolling_back' || d.stage === 'rolled_back')) {
    blocks.push({ type: 'context', elements: [plain(evaluations.map((e) => `${e.verdict === 'fired' ? '✗' : e.verdict === 'clear' ? '✓' : '…'} ${e.summary}`).join('\n'), 2000)] });
  }
  const ready = d.progress.rollbackReady;
  if (ready) blocks.push({ type: 'context', elements: [mrkdwn(ready.ready ? ':white_check_mark: *rollback ready*' : ':warning: *rollback NOT ready*'), plain(ready.detail)] });
  if (d.approvals.length > 0) {
    blocks.push({ type: 'context', elements: [mrkdwn(`*Approved by* ${d.approvals.map((a) => actorMention(a.actor, people)).join(', ')}`)] });
  }
  const buttons = buttonsFor(d);
  if (buttons.length > 0) blocks.push({ type: 'actions', block_id: `kd_actions_${d.id}`, elements: buttons });
  blocks.push({ type: 'context', elements: [mrkdwn(`\`${d.id}\` · updated ${clock(d.updatedAt)} UTC`)] });
  return { text, blocks };
}

/** Tags come from CI and refs from users: escaped, and without backticks that would end the code span. */
function safe(text: string): string {
  return escapeMrkdwn(text).replaceAll('`', "'");
}

function code(v: VersionInfo): string {
  return `\`${safe(v.tag ?? v.id.slice(0, 8))}\` (${v.id.slice(0, 8)})`;
}

function canaryLine(d: Deployment, settings: TargetSettings): string {
  const steps = stepsOf(settings);
  if (steps.length < 2 || d.progress.canaryStep === undefined) return '';
  const step = d.progress.canaryStep;
  const state = stateOf(d);
  const waiting = state.stage === 'monitoring' && state.phase === 'at-gate' ? ' — waiting for Promote' : '';
  return ` · canary step ${step + 1} of ${steps.length} (${steps[step]} % on green)${waiting}`;
}

function checklist(d: Deployment): string {
  const path = d.kind === 'rollback' ? ['resolving', ...ROLLBACK_PATH] as Stage[] : [...RELEASE_PATH];
  if (d.kind === 'release' && (d.stageTimes.rolling_back || d.stage === 'rolling_back')) {
    path.splice(path.indexOf('succeeded'), 1, ...ROLLBACK_PATH);
  }
  const lines = path.map((stage) => {
    const at = d.stageTimes[stage];
    if (stage === d.stage) return `${STAGE_ICON[stage]} *${stageLabel(stage)}* ${clock(at)}`;
    if (at) return `:white_check_mark: ${stageLabel(stage)} ${clock(at)}`;
    return `:white_small_square: ${stageLabel(stage)}`;
  });
  if (!path.includes(d.stage)) lines.push(`${STAGE_ICON[d.stage]} *${stageLabel(d.stage)}* ${clock(d.stageTimes[d.stage])}`);
  return lines.join('\n');
}

function monitoringFigures(d: Deployment, settings: TargetSettings): string {
  const t = settings.monitor.triggers;
  const failures = d.progress.consecutiveHealthFailures ?? 0;
  return [
    `*Watching* until ${clock(d.progress.monitorEndsAt)} UTC (${formatDuration(settings.monitor.window)} window)`,
    `samples ${d.progress.samplesTaken ?? 0}`,
    `health failures in a row ${failures}/${t.healthFailures.consecutive}`,
    `KEVIN content ${t.content.enabled ? ((d.progress.lastChecks ?? []).filter((c) => c.name.startsWith('content')).every((c) => c.ok) ? 'ok' : 'FAILING') : 'not checked'}`,
  ].join('  ·  ');
}

function button(prompt: ActionPrompt, d: Deployment): types.Button {
  const { style, confirm } = prompt;
  return {
    type: 'button',
    action_id: buttonActionId(prompt.action, prompt.override),
    text: plain(prompt.label),
    value: d.id,
    ...(style ? { style } : {}),
    ...(confirm
      ? { confirm: { title: plain(confirm.title), text: plain(confirm.text), confirm: plain(confirm.go), deny: plain(confirm.deny), ...(style === 'danger' ? { style: 'danger' } : {}) } }
      : {}),
  };
}

/**
 * The buttons of the card: exactly what allowedActions() offers now (the domain's one answer to
 * "what may people do with this release"). A stale click on an old card is still refused by the
 * engine.
 */
export function buttonsFor(d: Deployment): types.Button[] {
  return actionPromptsFor(d).map((prompt) => button(prompt, d));
}
