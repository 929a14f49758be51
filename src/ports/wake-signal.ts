/**
 * Tells every replica that a deployment changed, so the one that can work on it looks at once
 * instead of at its next scan. Best effort by design: the periodic scan still finds whatever a
 * lost signal would have announced.
 */
export interface WakeSignal {
  /** Announces that the deployment changed (a command was applied, a request admitted). */
  send(deploymentId: string): Promise<void>;
  /** Called for every announcement, from any replica (this one's included), with how late it arrived. */
  subscribe(listener: (deploymentId: string, lagMs: number) => void): void;
  close(): Promise<void>;
}
