import pg from 'pg';
import type { Logger } from 'pino';
import type { WakeSignal } from '../../ports/wake-signal.ts';

const CHANNEL = 'kevin_deploy_wake';
const RECONNECT_MS = [250, 500, 1_000, 2_000, 5_000];

/**
 * The wake signal over Postgres LISTEN/NOTIFY. One dedicated connection listens (a pooled one
 * cannot: LISTEN belongs to a session); announcements go out through the pool with pg_notify, in
 * the schema's own channel so installations sharing a database do not wake each other. A lost
 * listening connection is opened again with backoff; meanwhile the runner's scan covers.
 */
export class PostgresWakeSignal implements WakeSignal {
  private readonly listeners: Array<(deploymentId: string, lagMs: number) => void> = [];
  private readonly channel: string;
  private client: pg.Client | undefined;
  private closed = false;
  private failures = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly clientConfig: pg.ClientConfig,
    schema: string | undefined,
    private readonly logger: Logger,
  ) {
    this.channel = schema ? `${CHANNEL}_${schema}` : CHANNEL;
  }

  /** Starts listening; resolves once the first LISTEN is in place. */
  async start(): Promise<void> {
    await this.listen();
  }

  async send(deploymentId: string): Promise<void> {
    await this.pool.query('SELECT pg_notify($1, $2)', [this.channel, JSON.stringify({ id: deploymentId, at: Date.now() })]);
  }

  subscribe(listener: (deploymentId: string, lagMs: number) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }

  private async listen(): Promise<void> {
    const client = new pg.Client(this.clientConfig);
    client.on('notification', (message) => this.deliver(message.payload));
    client.on('error', (error) => {
      this.logger.warn({ err: error }, 'the wake-signal connection to Postgres failed; reconnecting (the scan covers meanwhile)');
      void client.end().catch(() => undefined);
      this.reconnect();
    });
    await client.connect();
    await client.query(`LISTEN "${this.channel}"`);
    this.client = client;
    this.failures = 0;
  }

  private reconnect(): void {
    if (this.closed) return;
    const delay = RECONNECT_MS[Math.min(this.failures, RECONNECT_MS.length - 1)]!;
    this.failures += 1;
    setTimeout(() => {
      if (this.closed) return;
      this.listen().catch((error: unknown) => {
        this.logger.warn({ err: error, retryInMs: delay }, 'could not listen for wake signals yet');
        this.reconnect();
      });
    }, delay).unref();
  }

  private deliver(payload: string | undefined): void {
    let message: { id?: unknown; at?: unknown };
    try {
      message = JSON.parse(payload ?? '') as { id?: unknown; at?: unknown };
    } catch {
      return; // not ours
    }
    if (typeof message.id !== 'string') return;
    const lag = typeof message.at === 'number' ? Math.max(0, Date.now() - message.at) : 0;
    for (const listener of this.listeners) listener(message.id, lag);
  }
}
