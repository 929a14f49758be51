import type { Deployment, DeploymentEvent } from '../../domain/deployment.ts';
import type { Stage } from '../../domain/stages.ts';
import { isTerminal } from '../../domain/stages.ts';
import type { DeploymentEventsTable, DeploymentsTable } from './database-schema.ts';
import type { Selectable } from 'kysely';

/** Maps the persisted status row to the domain object and back; the only place that knows column names. */
export function deploymentToRow(d: Deployment): DeploymentsTable {
  return {
    id: d.id,
    service: d.service,
    environment: d.environment,
    kind: d.kind,
    stage: d.stage,
    version_ref: d.versionRef,
    version_id: d.version?.id ?? null,
    version_tag: d.version?.tag ?? null,
    previous_version_id: d.previousVersion?.id ?? null,
    previous_version_tag: d.previousVersion?.tag ?? null,
    strategy: d.strategy,
    split_json: JSON.stringify(d.split),
    requested_by: d.requestedBy,
    note: d.note,
    force: d.force ? 1 : 0,
    approvals_json: JSON.stringify(d.approvals),
    reason: d.reason,
    outcome: isTerminal(d.stage) ? d.stage : null,
    stage_times_json: JSON.stringify(d.stageTimes),
    progress_json: JSON.stringify(d.progress),
    wake_at: d.wakeAt,
    revision: d.revision,
    created_at: d.createdAt,
    updated_at: d.updatedAt,
  };
}

export function rowToDeployment(row: Selectable<DeploymentsTable>): Deployment {
  return {
    id: row.id,
    service: row.service,
    environment: row.environment,
    kind: row.kind as Deployment['kind'],
    stage: row.stage as Stage,
    versionRef: row.version_ref,
    version: row.version_id ? { id: row.version_id, tag: row.version_tag } : null,
    previousVersion: row.previous_version_id ? { id: row.previous_version_id, tag: row.previous_version_tag } : null,
    strategy: row.strategy as Deployment['strategy'],
    split: JSON.parse(row.split_json),
    requestedBy: row.requested_by,
    note: row.note,
    force: Number(row.force) === 1,
    approvals: JSON.parse(row.approvals_json),
    reason: row.reason,
    stageTimes: JSON.parse(row.stage_times_json),
    progress: JSON.parse(row.progress_json),
    wakeAt: row.wake_at,
    revision: Number(row.revision),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function rowToEvent(row: Selectable<DeploymentEventsTable>): DeploymentEvent {
  return {
    deploymentId: row.deployment_id,
    at: row.at,
    actor: row.actor,
    action: row.action,
    fromStage: row.from_stage as Stage | null,
    toStage: row.to_stage as Stage | null,
    details: JSON.parse(row.details_json),
  };
}
