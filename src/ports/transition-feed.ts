import type { TransitionRecord } from '../domain/transition-record.ts';

export type TransitionObserver = (record: TransitionRecord) => void | Promise<void>;

/**
 * Committed status changes, in commit order, for whoever shows or counts them (logs, metrics, the
 * Slack card, alerts). Observers only ever see what was already persisted.
 */
export interface TransitionFeed {
  /** Returns the function that unsubscribes. */
  subscribe(observer: TransitionObserver): () => void;
}
