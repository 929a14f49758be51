/**
 * A loopback stand-in for Slack's Socket Mode WebSocket endpoint (the `wss://wss-primary.slack.com/link/?ticket=…`
 * URL that `apps.connections.open` hands out). The real `@slack/socket-mode` SocketModeClient (and so Bolt's
 * SocketModeReceiver) connects to it unchanged.
 *
 * Protocol, as Slack speaks it:
 * - the URL carries a one-time `ticket`; a connection with an unknown or already used ticket is refused at the
 *   handshake (HTTP 401), so the client goes back to `apps.connections.open` for a fresh URL;
 * - on connection the server sends `{type:'hello', num_connections, debug_info:{host, build_number,
 *   approximate_connection_time}, connection_info:{app_id}}`; the client counts as connected once it has the hello;
 * - each delivery is an envelope `{envelope_id, type, payload, accepts_response_payload}` (`events_api` ones also
 *   carry `retry_attempt` and `retry_reason`); the app acknowledges with `{envelope_id, payload?}` on the same socket;
 * - `{type:'disconnect', reason}` asks the client to reconnect (it closes and calls `apps.connections.open` again);
 * - the server answers the client's WebSocket pings with pongs (the client drops a connection whose pongs stop)
 *   and sends its own pings every `pingIntervalMs` (the client drops a connection whose pings stop once started).
 *
 * Usually started by `startFakeSlack({ appToken })`; usable on its own with any HTTP fake answering
 * `apps.connections.open` with `issueUrl()`.
 *
 * Shut down clients (`client.disconnect()` / `app.stop()`) before `close()`: a SocketModeClient that loses its
 * server retries forever and, once `apps.connections.open` is unreachable too, rejects inside its reconnect timer.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer, type WebSocket, type RawData } from 'ws';

export type SocketEnvelopeType = 'slash_commands' | 'interactive' | 'events_api' | (string & {});

export interface SocketEnvelopeInput {
  type: SocketEnvelopeType;
  payload: unknown;
  /** Default: true for slash_commands and for interactive view_submission / block_suggestion payloads; else false. */
  accepts_response_payload?: boolean;
  /** Default: a fresh UUID, like Slack's. */
  envelope_id?: string;
  /** events_api only (defaults 0 and ''); Slack sets them when it redelivers an event that was not acked in time. */
  retry_attempt?: number;
  retry_reason?: string;
}

export interface SocketAck {
  envelope_id: string;
  /** What the app sent back (`ack()` with no argument sends `{}` from SocketModeClient). */
  payload?: unknown;
  /** The whole message as the client sent it. */
  raw: Record<string, unknown>;
  /** The envelope type this ack answers. */
  type: string;
  connectionId: number;
  at: Date;
}

export interface SocketConnectionInfo {
  id: number;
  ticket: string | null;
  openedAt: Date;
  closedAt: Date | null;
  open: boolean;
}

export interface SocketModeStats {
  connectionsOpened: number;
  openConnections: number;
  /** Tickets refused at the handshake (unknown or reused). */
  refusedHandshakes: number;
  envelopesSent: number;
  acks: number;
  pingsSent: number;
  pongsReceived: number;
  pingsReceived: number;
}

export interface FakeSocketModeOptions {
  appId?: string;
  /** Server keep-alive pings; 0 disables them. Default 5000 ms (well under the client's 30 s serverPingTimeout). */
  pingIntervalMs?: number;
  /** Refuse connections without a ticket issued by issueUrl() (single use). Default true. */
  requireTicket?: boolean;
  clock?: () => Date;
}

export interface FakeSocketMode {
  /** Base URL `ws://127.0.0.1:Q/link/`. */
  readonly baseUrl: string;
  readonly appId: string;
  /** A fresh single-use connection URL (what apps.connections.open returns). */
  issueUrl(): string;
  /**
   * Resolves once a connection is open (hello sent). With `count`, once at least that many connections have ever
   * been opened (e.g. `count: 2` after forcing a reconnect).
   */
  connected(options?: { count?: number; timeoutMs?: number }): Promise<void>;
  /**
   * Sends an envelope to the most recently opened live connection (waiting up to `timeoutMs` for one) and resolves
   * with the app's ack; rejects if no ack comes within `timeoutMs` (default 10 s; Slack itself gives up after 3 s).
   */
  sendEnvelope(envelope: SocketEnvelopeInput, options?: { timeoutMs?: number }): Promise<SocketAck>;
  /** Acks received so far, in order. */
  acks(): SocketAck[];
  /** Messages from clients that were not acks of a known envelope. */
  strayMessages(): unknown[];
  /** Envelopes sent so far (as sent on the wire). */
  envelopes(): Array<Record<string, unknown>>;
  connections(): SocketConnectionInfo[];
  stats(): SocketModeStats;
  /** Sends `{type:'disconnect', reason}` to every open connection (the client closes and reconnects). */
  sendDisconnect(reason?: 'refresh_requested' | 'warning' | 'link_disabled' | 'too_many_websockets'): void;
  /** Drops every open connection without a close handshake (network loss); the client reconnects by itself. */
  dropConnections(): void;
  /** Closes every client connection and the server. */
  close(): Promise<void>;
}

interface LiveConnection {
  info: SocketConnectionInfo;
  ws: WebSocket;
  pingTimer: NodeJS.Timeout | undefined;
}

interface PendingEnvelope {
  type: string;
  resolve: (ack: SocketAck) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

const HOST = '127.0.0.1';

export async function startFakeSocketMode(options: FakeSocketModeOptions = {}): Promise<FakeSocketMode> {
  const appId = options.appId ?? 'A0KEVINDEPLOY';
  const pingIntervalMs = options.pingIntervalMs ?? 5000;
  const requireTicket = options.requireTicket ?? true;
  const clock = options.clock ?? (() => new Date());

  const httpServer: Server = createServer((_req, res) => {
    // Plain HTTP to the link endpoint: Slack answers with an error page; a 400 is close enough.
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('WebSocket upgrade required');
  });
  const wss = new WebSocketServer({ noServer: true });

  const tickets = new Map<string, { used: boolean }>();
  const live = new Map<number, LiveConnection>();
  const allConnections: SocketConnectionInfo[] = [];
  const pending = new Map<string, PendingEnvelope>();
  const ackLog: SocketAck[] = [];
  const stray: unknown[] = [];
  const sentEnvelopes: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  const stats: SocketModeStats = {
    connectionsOpened: 0,
    openConnections: 0,
    refusedHandshakes: 0,
    envelopesSent: 0,
    acks: 0,
    pingsSent: 0,
    pongsReceived: 0,
    pingsReceived: 0,
  };
  let nextConnectionId = 1;
  let closed = false;

  const notify = (): void => {
    for (const w of [...waiters]) w();
  };

  httpServer.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const url = new URL(req.url ?? '/', `http://${HOST}`);
    const ticket = url.searchParams.get('ticket');
    const known = ticket === null ? undefined : tickets.get(ticket);
    if (closed || !url.pathname.startsWith('/link') || (requireTicket && (known === undefined || known.used))) {
      stats.refusedHandshakes += 1;
      socket.write('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
      return;
    }
    if (known !== undefined) known.used = true;
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, ticket));
  });

  function onConnection(ws: WebSocket, ticket: string | null): void {
    const info: SocketConnectionInfo = {
      id: nextConnectionId++,
      ticket,
      openedAt: clock(),
      closedAt: null,
      open: true,
    };
    const conn: LiveConnection = { info, ws, pingTimer: undefined };
    live.set(info.id, conn);
    allConnections.push(info);
    stats.connectionsOpened += 1;
    stats.openConnections = live.size;

    ws.on('ping', () => {
      stats.pingsReceived += 1; // ws answers with a pong by itself (autoPong)
    });
    ws.on('pong', () => {
      stats.pongsReceived += 1;
    });
    ws.on('message', (data: RawData, isBinary: boolean) => onMessage(conn, data, isBinary));
    ws.on('error', () => {
      /* a client vanishing mid-frame is not the fake's problem */
    });
    ws.on('close', () => {
      if (conn.pingTimer) clearInterval(conn.pingTimer);
      info.open = false;
      info.closedAt = clock();
      live.delete(info.id);
      stats.openConnections = live.size;
      notify();
    });

    const hello = {
      type: 'hello',
      num_connections: live.size,
      debug_info: {
        host: `applink-fake-${info.id}`,
        build_number: 1,
        approximate_connection_time: 18060,
      },
      connection_info: { app_id: appId },
    };
    ws.send(JSON.stringify(hello));
    if (pingIntervalMs > 0) {
      conn.pingTimer = setInterval(() => {
        if (ws.readyState === ws.OPEN) {
          stats.pingsSent += 1;
          ws.ping(Buffer.from(`ping-${stats.pingsSent}`));
        }
      }, pingIntervalMs);
      conn.pingTimer.unref();
    }
    notify();
  }

  function onMessage(conn: LiveConnection, data: RawData, isBinary: boolean): void {
    if (isBinary) {
      stray.push(data);
      return;
    }
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      stray.push(text);
      return;
    }
    const envelopeId =
      typeof message === 'object' && message !== null && typeof (message as { envelope_id?: unknown }).envelope_id === 'string'
        ? (message as { envelope_id: string }).envelope_id
        : undefined;
    const waiting = envelopeId === undefined ? undefined : pending.get(envelopeId);
    if (envelopeId === undefined || waiting === undefined) {
      stray.push(message);
      return;
    }
    pending.delete(envelopeId);
    clearTimeout(waiting.timer);
    const raw = message as Record<string, unknown>;
    const ack: SocketAck = {
      envelope_id: envelopeId,
      ...('payload' in raw ? { payload: raw.payload } : {}),
      raw,
      type: waiting.type,
      connectionId: conn.info.id,
      at: clock(),
    };
    ackLog.push(ack);
    stats.acks += 1;
    waiting.resolve(ack);
  }

  await new Promise<void>((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(0, HOST, () => {
      httpServer.off('error', reject);
      resolve();
    });
  });
  const port = (httpServer.address() as AddressInfo).port;
  const baseUrl = `ws://${HOST}:${port}/link/`;

  function waitUntil(condition: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (condition()) {
          cleanup();
          resolve();
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake Socket Mode: timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
    });
  }

  function latestLive(): LiveConnection | undefined {
    let latest: LiveConnection | undefined;
    for (const conn of live.values()) {
      if (conn.ws.readyState !== conn.ws.OPEN) continue;
      if (latest === undefined || conn.info.id > latest.info.id) latest = conn;
    }
    return latest;
  }

  return {
    baseUrl,
    appId,
    issueUrl(): string {
      const ticket = randomUUID();
      tickets.set(ticket, { used: false });
      return `${baseUrl}?ticket=${ticket}&app_id=${encodeURIComponent(appId)}`;
    },
    connected(opts = {}): Promise<void> {
      const timeoutMs = opts.timeoutMs ?? 10_000;
      const count = opts.count;
      return waitUntil(
        () => (count === undefined ? latestLive() !== undefined : stats.connectionsOpened >= count && latestLive() !== undefined),
        timeoutMs,
        () =>
          count === undefined
            ? 'a Socket Mode connection'
            : `${count} Socket Mode connections (so far ${stats.connectionsOpened}, open ${live.size})`,
      );
    },
    async sendEnvelope(envelope, opts = {}): Promise<SocketAck> {
      const timeoutMs = opts.timeoutMs ?? 10_000;
      await waitUntil(() => latestLive() !== undefined, timeoutMs, () => 'a connection to deliver an envelope on');
      const conn = latestLive();
      if (conn === undefined) throw new Error('fake Socket Mode: no open connection');
      const envelopeId = envelope.envelope_id ?? randomUUID();
      const payloadType =
        typeof envelope.payload === 'object' && envelope.payload !== null
          ? (envelope.payload as { type?: unknown }).type
          : undefined;
      const accepts =
        envelope.accepts_response_payload ??
        (envelope.type === 'slash_commands' ||
          (envelope.type === 'interactive' && (payloadType === 'view_submission' || payloadType === 'block_suggestion')));
      const wire: Record<string, unknown> = {
        envelope_id: envelopeId,
        payload: envelope.payload,
        type: envelope.type,
        accepts_response_payload: accepts,
      };
      if (envelope.type === 'events_api') {
        wire.retry_attempt = envelope.retry_attempt ?? 0;
        wire.retry_reason = envelope.retry_reason ?? '';
      }
      const ackPromise = new Promise<SocketAck>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(envelopeId);
          reject(new Error(`fake Socket Mode: envelope ${envelopeId} (${envelope.type}) was not acked within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(envelopeId, { type: envelope.type, resolve, reject, timer });
      });
      sentEnvelopes.push(wire);
      stats.envelopesSent += 1;
      conn.ws.send(JSON.stringify(wire));
      return ackPromise;
    },
    acks: () => [...ackLog],
    strayMessages: () => [...stray],
    envelopes: () => sentEnvelopes.map((e) => ({ ...e })),
    connections: () => allConnections.map((c) => ({ ...c })),
    stats: () => ({ ...stats, openConnections: live.size }),
    sendDisconnect(reason = 'refresh_requested'): void {
      for (const conn of live.values()) {
        if (conn.ws.readyState === conn.ws.OPEN) {
          conn.ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: `applink-fake-${conn.info.id}` } }));
        }
      }
    },
    dropConnections(): void {
      for (const conn of live.values()) conn.ws.terminate();
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error('fake Socket Mode closed'));
      }
      pending.clear();
      for (const conn of live.values()) {
        if (conn.pingTimer) clearInterval(conn.pingTimer);
        conn.ws.terminate();
      }
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}
