import type { Logger } from 'pino';
import type { TransitionRecord } from '../domain/transition-record.ts';
import type { TransitionFeed, TransitionObserver } from '../ports/transition-feed.ts';

/**
 * The one place where effects of a status change are derived from the old→new diff (metrics,
 * logs, and later chat cards and alerts). Observers run only after the status was committed; one
 * failing observer never blocks another, nor the release.
 */
export class TransitionBus implements TransitionFeed {
  private readonly observers: TransitionObserver[] = [];

  constructor(private readonly logger: Logger) {}

  subscribe(observer: TransitionObserver): () => void {
    this.observers.push(observer);
    return () => {
      const i = this.observers.indexOf(observer);
      if (i >= 0) this.observers.splice(i, 1);
    };
  }

  async publish(records: readonly TransitionRecord[]): Promise<void> {
    for (const record of records) {
      for (const observer of this.observers) {
        try {
          await observer(record);
        } catch (error) {
          this.logger.error({ err: error, deploymentId: record.after.id }, 'a transition observer failed; the release continues');
        }
      }
    }
  }
}
