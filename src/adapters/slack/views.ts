import type { types, ViewOutput } from '@slack/bolt';
import type { Deployment } from '../../domain/deployment.ts';
import type { FreezeLock } from '../../domain/freeze-lock.ts';
import type { VersionSummary } from '../../ports/traffic-platform.ts';
import { actorMention, escapeMrkdwn, mrkdwn, plain, truncate, type People } from './mrkdwn.ts';
import { stageLabel } from '../../domain/stage-words.ts';

export const DEPLOY_MODAL = 'kd_deploy_modal';
export const MODAL_TARGET_ACTION = 'kd_modal_target';
const BLOCKS = { target: 'kd_target', version: 'kd_version', note: 'kd_note', queue: 'kd_queue' } as const;

export interface TargetChoice {
  service: string;
  environment: string;
  protected: boolean;
}

function versionTag(d: Deployment): string {
  return escapeMrkdwn(d.version?.tag ?? d.version?.id.slice(0, 8) ?? d.versionRef);
}

function ago(iso: string | null, now: Date): string {
  if (!iso) return '';
  const minutes = Math.max(0, Math.round((now.getTime() - Date.parse(iso)) / 60_000));
  if (minutes < 60) return `${minutes} min ago`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h ago`;
  return `${Math.round(minutes / 1440)} d ago`;
}

/**
 * `/deploy` with no arguments: pick the target, one of its ten newest versions (tag, message,
 * author, age), add a note, and submit. Choosing a target redraws the view with its versions.
 */
export function deployModal(options: {
  targets: TargetChoice[];
  selected?: TargetChoice | undefined;
  versions?: VersionSummary[] | undefined;
  versionsProblem?: string | undefined;
  channelId: string;
  now: Date;
}): types.ModalView {
  const targetOption = (t: TargetChoice): types.PlainTextOption => ({
    text: plain(`${t.service} → ${t.environment}${t.protected ? ' (protected)' : ''}`, 75),
    value: `${t.service}/${t.environment}`,
  });
  const blocks: types.KnownBlock[] = [
    {
      type: 'input',
      block_id: BLOCKS.target,
      dispatch_action: true,
      label: plain('Service and environment'),
      element: {
        type: 'static_select',
        action_id: MODAL_TARGET_ACTION,
        placeholder: plain('Choose where to deploy'),
        options: options.targets.slice(0, 100).map(targetOption),
        ...(options.selected ? { initial_option: targetOption(options.selected) } : {}),
      },
    },
  ];
  if (options.selected && options.versions && options.versions.length > 0) {
    blocks.push({
      type: 'input',
      block_id: BLOCKS.version,
      label: plain('Version (newest first)'),
      element: {
        type: 'static_select',
        action_id: 'kd_modal_version',
        placeholder: plain('Choose a version'),
        options: options.versions.slice(0, 10).map((v) => ({
          text: plain(truncate(`${v.tag ?? v.id.slice(0, 8)} · ${v.message ?? 'no message'}`, 75)),
          description: plain(truncate(`${v.id.slice(0, 8)} · ${v.author ?? 'unknown author'} · ${ago(v.createdAt, options.now)}`, 75)),
          value: v.id,
        })),
      },
    });
  } else if (options.selected) {
    blocks.push({ type: 'context', elements: [plain(options.versionsProblem ?? 'No versions found for this target.')] });
  } else {
    blocks.push({ type: 'context', elements: [plain('Choose a target to see its ten newest versions.')] });
  }
  blocks.push(
    {
      type: 'input',
      block_id: BLOCKS.note,
      optional: true,
      label: plain('Note for the approvers'),
      element: { type: 'plain_text_input', action_id: 'kd_modal_note', multiline: true, max_length: 500 },
    },
    {
      type: 'input',
      block_id: BLOCKS.queue,
      optional: true,
      label: plain('If another release is running'),
      element: {
        type: 'checkboxes',
        action_id: 'kd_modal_queue',
        options: [{ text: plain('Wait in the queue'), value: 'queue' }],
      },
    },
  );
  return {
    type: 'modal',
    callback_id: DEPLOY_MODAL,
    private_metadata: JSON.stringify({ channelId: options.channelId }),
    title: plain('Deploy'),
    submit: plain('Deploy'),
    close: plain('Cancel'),
    blocks,
  };
}

/** `view.state.values` as Slack sends them: block id → action id → the element's value. */
type StateValues = ViewOutput['state']['values'];

/** The target chosen in the modal, if any. */
export function selectedTarget(values: StateValues): { service: string; environment: string } | undefined {
  const value = Object.values(values[BLOCKS.target] ?? {})[0]?.selected_option?.value;
  if (!value || !value.includes('/')) return undefined;
  const [service, environment] = value.split('/') as [string, string];
  return { service, environment };
}

/** The deploy command's arguments from a submitted modal, or the field errors to show. */
export function parseDeployModal(values: StateValues): { args: Record<string, unknown> } | { errors: Record<string, string> } {
  const target = selectedTarget(values);
  const version = Object.values(values[BLOCKS.version] ?? {})[0]?.selected_option?.value;
  const note = Object.values(values[BLOCKS.note] ?? {})[0]?.value?.trim();
  const queue = (Object.values(values[BLOCKS.queue] ?? {})[0]?.selected_options ?? []).some((o) => o.value === 'queue');
  if (!target) return { errors: { [BLOCKS.target]: 'Choose a service and environment.' } };
  if (!version) return { errors: { [BLOCKS.target]: 'This target has no version to choose; upload one first.' } };
  return { args: { ...target, version, ...(note ? { note } : {}), ...(queue ? { queue: true } : {}) } };
}

export const MODAL_BLOCKS = BLOCKS;

/** The App Home tab: active releases, freeze locks, and the last ten releases per service. */
export function appHome(options: {
  active: Deployment[];
  locks: FreezeLock[];
  recent: Map<string, Deployment[]>;
  now: Date;
  people?: People;
}): types.HomeView {
  const people = options.people ?? new Map<string, string>();
  const blocks: types.KnownBlock[] = [
    { type: 'header', text: plain('kevin-deploy') },
    { type: 'context', elements: [mrkdwn(`Updated ${options.now.toISOString().slice(0, 16).replace('T', ' ')} UTC · \`/deploy help\` for commands`)] },
    { type: 'section', text: mrkdwn('*Active releases*') },
  ];
  if (options.active.length === 0) blocks.push({ type: 'context', elements: [plain('None right now.')] });
  for (const d of options.active.slice(0, 20)) {
    blocks.push({
      type: 'section',
      text: mrkdwn(`*${d.service} → ${d.environment}* · \`${versionTag(d)}\` · ${stageLabel(d.stage)} · requested by ${actorMention(d.requestedBy, people)} · \`${d.id}\``),
    });
    blocks.push({ type: 'context', elements: [plain(d.reason, 2000)] });
  }
  blocks.push({ type: 'divider' }, { type: 'section', text: mrkdwn('*Frozen targets*') });
  if (options.locks.length === 0) blocks.push({ type: 'context', elements: [plain('None.')] });
  for (const lock of options.locks.slice(0, 20)) {
    blocks.push({
      type: 'context',
      elements: [
        mrkdwn(`:lock: *${lock.service} → ${lock.environment}* by ${actorMention(lock.holder, people)} since ${lock.since.slice(0, 16).replace('T', ' ')}${lock.expiresAt ? ` until ${lock.expiresAt.slice(0, 16).replace('T', ' ')}` : ''}`),
        plain(lock.reason, 1000),
      ],
    });
  }
  for (const [service, deployments] of options.recent) {
    blocks.push({ type: 'divider' }, { type: 'section', text: mrkdwn(`*Last releases of ${escapeMrkdwn(service)}*`) });
    if (deployments.length === 0) blocks.push({ type: 'context', elements: [plain('No releases yet.')] });
    const lines = deployments
      .slice(0, 10)
      .map((d) => `\`${d.createdAt.slice(0, 16).replace('T', ' ')}\` ${d.environment} \`${versionTag(d)}\` ${d.kind === 'rollback' ? '(rollback) ' : ''}*${stageLabel(d.stage)}* · ${actorMention(d.requestedBy, people)}`);
    if (lines.length > 0) blocks.push({ type: 'section', text: mrkdwn(lines.join('\n')) });
  }
  return { type: 'home', blocks: blocks.slice(0, 100) };
}
