import type { CommandName } from '../../../commands/index.ts';
import type { HelpResult } from '../../../commands/help.ts';
import type { DeploymentView, LockView } from '../../domain/deployment-view.ts';
import type { VersionInfo } from '../../domain/deployment.ts';
import { isKevinDeployError } from '../../errors.ts';
import { actorMention, escapeMrkdwn, mentionPrincipals, neutralizeMrkdwn, type People } from './mrkdwn.ts';
import { stageLabel } from '../../domain/stage-words.ts';

interface TargetView {
  service: string;
  environment: string;
  protected: boolean;
  live: VersionInfo | null;
  active: DeploymentView | null;
  queue: DeploymentView[];
  lock: LockView | null;
}

function version(v: VersionInfo | null | undefined, ref?: string): string {
  if (!v) return ref ? `\`${escapeMrkdwn(ref)}\`` : 'unknown';
  return `\`${escapeMrkdwn(v.tag ?? v.id.slice(0, 8))}\` (${v.id.slice(0, 8)})`;
}

/**
 * The ephemeral answer to a chat command, in mrkdwn. Every piece of user text in it is escaped,
 * so a note or a lock reason cannot mention anyone or format anything.
 */
export function replyFor(command: CommandName, result: unknown, cardChannel: string | undefined, people: People = new Map()): string {
  const where = cardChannel ? ` Follow it on its card in <#${cardChannel}>.` : '';
  switch (command) {
    case 'deploy': {
      const d = result as DeploymentView;
      if (d.stage === 'requested') {
        return `:hourglass_flowing_sand: Queued \`${d.id}\`: ${d.service} → ${d.environment} ${version(d.version, d.versionRef)}, position ${d.queuePosition ?? '?'}. It starts when the active release ends; you will be told.${where}`;
      }
      return `:rocket: Started \`${d.id}\`: ${d.service} → ${d.environment} ${version(d.version, d.versionRef)}. It is checked before any traffic, then waits for approval.${where}`;
    }
    case 'rollback': {
      const d = result as DeploymentView;
      return `:rewind: Rolling back ${d.service} → ${d.environment} (\`${d.id}\`): all traffic goes back to ${version(d.kind === 'release' ? d.previousVersion : d.version, d.versionRef)}, then its health is verified.${where}`;
    }
    case 'approve':
    case 'reject':
    case 'cancel':
    case 'promote': {
      const d = result as DeploymentView;
      return `:ok_hand: \`${d.id}\` is now ${stageLabel(d.stage)}.`;
    }
    case 'status': {
      const { targets } = result as { targets: TargetView[] };
      return targets
        .map((t) => {
          const lines = [`*${t.service} → ${t.environment}*${t.protected ? ' (protected)' : ''}: live ${t.live ? version(t.live) : 'unknown'}`];
          if (t.active) lines.push(`  active \`${t.active.id}\` ${stageLabel(t.active.stage)} — ${neutralizeMrkdwn(t.active.reason)}`);
          if (t.queue.length > 0) lines.push(`  queue: ${t.queue.map((d) => `\`${d.id}\` ${version(d.version, d.versionRef)}`).join(', ')}`);
          if (t.lock) lines.push(`  :lock: frozen by ${actorMention(t.lock.holder, people)}: ${neutralizeMrkdwn(t.lock.reason)}`);
          return lines.join('\n');
        })
        .join('\n');
    }
    case 'history': {
      const { deployments } = result as { deployments: DeploymentView[] };
      if (deployments.length === 0) return 'No releases yet.';
      return deployments
        .map((d) => `\`${d.createdAt.slice(0, 16).replace('T', ' ')}\` ${d.service} → ${d.environment} ${version(d.version, d.versionRef)} *${stageLabel(d.stage)}* · ${actorMention(d.requestedBy, people)} · \`${d.id}\``)
        .join('\n');
    }
    case 'lock': {
      const lock = result as LockView;
      return `:lock: ${lock.service} → ${lock.environment} is frozen: ${neutralizeMrkdwn(lock.reason)}. Deploys are refused until unlocked; rollbacks still work.`;
    }
    case 'unlock': {
      const { unlocked } = result as { unlocked: LockView };
      return `:unlock: ${unlocked.service} → ${unlocked.environment} is open again.`;
    }
    case 'help': {
      const { commands } = result as HelpResult;
      return ['*kevin-deploy*', ...commands.map((c) => `\`${c.usage}\` — ${c.summary}`), 'Approve, reject, cancel and roll back with the buttons on each release card.'].join('\n');
    }
    case 'show':
      return `\`${(result as DeploymentView).id}\``;
  }
}

/**
 * A refusal or failure as the person should read it; never a stack trace. Refusals may quote
 * what someone typed (a lock reason), so the text is neutralized; only the "allowed:" list of a
 * permission refusal, which comes from the configuration, becomes mentions.
 */
export function errorReply(error: unknown, people: People = new Map()): string {
  if (!isKevinDeployError(error)) return ':warning: kevin-deploy could not do that; the details are in its log.';
  const marker = '; allowed: ';
  const at = error.code === 'FORBIDDEN' ? error.message.lastIndexOf(marker) : -1;
  if (at < 0) return `:no_entry: ${neutralizeMrkdwn(error.message)}`;
  // "<actor> may not …": the actor name is ours (an API actor or slack:U…), as is the list.
  const refused = neutralizeMrkdwn(error.message.slice(0, at)).replace(/^slack:([UW][A-Z0-9]{2,})\b/, '<@$1>');
  const allowed = mentionPrincipals(error.message.slice(at + marker.length)).replace(/[\w.@-]+/g, (name) =>
    people.has(name) ? `<@${people.get(name)}>` : name,
  );
  return `:no_entry: ${refused}${marker}${allowed}`;
}
