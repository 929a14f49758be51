import type { Logger } from 'pino';
import type { TransitionRecord } from '../domain/transition-record.ts';

/**
 * Logs every committed transition, whoever caused it (the runner, a person's command, a new
 * request), with a child logger per deployment: {deploymentId, service, env, stage}.
 */
export function transitionLogger(logger: Logger) {
  return (record: TransitionRecord): void => {
    const { before, after, events } = record;
    const log = logger.child({ deploymentId: after.id, service: after.service, env: after.environment, stage: after.stage });
    const actor = events.at(-1)?.actor;
    if (!before) log.info({ by: after.requestedBy, version: after.versionRef, reason: after.reason }, 'deployment requested');
    else if (before.stage !== after.stage) log.info({ from: before.stage, by: actor, reason: after.reason }, 'stage changed');
    else log.debug({ by: actor, reason: after.reason }, 'progress');
  };
}
