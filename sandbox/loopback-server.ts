import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Starting, addressing and stopping the sandbox's small HTTP edges (a script's edge, a zone
 * hostname's edge): one copy, so every edge listens, counts and shuts down the same way.
 */

/** Listens on the port and host; a failure to bind (port taken) rejects instead of throwing later. */
export async function listen(server: Server, port: number, host: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** An edge on its own loopback port that counts the requests it answered, by a key of its choosing. */
export abstract class LoopbackEdge {
  readonly #server: Server;
  readonly #served = new Map<string, number>();

  protected constructor(server: Server) {
    this.#server = server;
  }

  /** The listening server's base URL (IPv6 addresses bracketed). */
  get url(): string {
    const address = this.#server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    return `http://${host}:${address.port}`;
  }

  /** key → requests answered (a script for a hostname's edge; a version, previews and overrides included, for a script's edge). */
  servedBy(): Record<string, number> {
    return Object.fromEntries(this.#served);
  }

  /** Stops listening and drops keep-alive connections, so close does not wait on idle clients. */
  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  protected countServed(key: string): void {
    this.#served.set(key, (this.#served.get(key) ?? 0) + 1);
  }
}
