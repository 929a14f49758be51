/** A console sign-in as stored: digests only, so the table itself signs no one in. */
export interface ConsoleSession {
  idDigest: string;
  /** Digest of the API token it was made from: the session lasts only while that token is configured. */
  tokenDigest: string;
  actor: string;
  /** Sent back with every form (synchronizer token), never in a cookie. */
  csrfToken: string;
  createdAt: string;
  expiresAt: string;
}

/** Where console sessions live: in the store, so they survive restarts and work on every replica. */
export interface ConsoleSessionStore {
  create(session: ConsoleSession): Promise<void>;
  /** The session if it exists and has not expired at `now`. */
  find(idDigest: string, now: string): Promise<ConsoleSession | undefined>;
  delete(idDigest: string): Promise<void>;
  /** Forgets sessions that expired before `now`; returns how many. */
  deleteExpired(now: string): Promise<number>;
}
