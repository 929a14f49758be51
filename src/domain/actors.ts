/** The bot itself, as the audit trail names it when no person acted. */
export const SYSTEM_ACTOR = 'kevin-deploy';

/** The approval policy, as the audit trail names it when a release is approved automatically. */
export const AUTO_APPROVER = 'policy:auto';
