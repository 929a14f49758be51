import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { parseCookie, stringifySetCookie } from 'cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../../domain/policy.ts';
import type { ConsoleSessionStore } from '../../ports/console-sessions.ts';
import type { ApiTokens } from '../api-tokens.ts';

export const SESSION_COOKIE = 'kd_console';
/** A console session lasts a working day; signing in again is one paste of the token. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export interface SignedIn {
  actor: Actor;
  csrfToken: string;
  idDigest: string;
}

export interface ConsoleAuthDeps {
  tokens: ApiTokens;
  sessions: ConsoleSessionStore;
  now: () => Date;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * Behind a proxy that terminates TLS, the cookie must be Secure; on a plain local port it cannot
 * be (browsers would drop it). The proxy's X-Forwarded-Proto says which, as does a TLS socket.
 */
function overHttps(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const proto = Array.isArray(forwarded) ? forwarded[0] : forwarded?.split(',')[0]?.trim();
  return proto === 'https' || request.protocol === 'https';
}

/**
 * Console sign-in: an API token (the same tokens and roles as the API) is exchanged for a random
 * session id in an HttpOnly, SameSite=Strict cookie. Only the id's digest is stored, with the
 * token's digest — so a session ends when its token is removed from the configuration — and a
 * synchronizer token every form must send back.
 */
export class ConsoleAuth {
  constructor(private readonly deps: ConsoleAuthDeps) {}

  /** Signs in with a token; sets the cookie and returns the actor, or undefined for a token that is not valid. */
  async signIn(request: FastifyRequest, reply: FastifyReply, token: string): Promise<Actor | undefined> {
    const signedIn = this.deps.tokens.signIn(token);
    if (!signedIn) return undefined;
    const id = randomBytes(32).toString('base64url');
    const now = this.deps.now();
    await this.deps.sessions.create({
      idDigest: sha256Hex(id),
      tokenDigest: signedIn.tokenDigest,
      actor: signedIn.actor.name,
      csrfToken: randomBytes(24).toString('base64url'),
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + SESSION_TTL_MS).toISOString(),
    });
    // Expired sessions are forgotten as new ones are made: no timer, and the table stays small.
    await this.deps.sessions.deleteExpired(now.toISOString());
    reply.header('set-cookie', this.cookie(request, id, SESSION_TTL_MS / 1000));
    return signedIn.actor;
  }

  /** The signed-in person behind the request's cookie, if the session is live and its token still configured. */
  async current(request: FastifyRequest): Promise<SignedIn | undefined> {
    const id = parseCookie(request.headers.cookie ?? '')[SESSION_COOKIE];
    if (!id || id.length > 100) return undefined;
    const idDigest = sha256Hex(id);
    const session = await this.deps.sessions.find(idDigest, this.deps.now().toISOString());
    if (!session) return undefined;
    const actor = this.deps.tokens.actorForDigest(session.tokenDigest);
    return actor ? { actor, csrfToken: session.csrfToken, idDigest } : undefined;
  }

  async signOut(request: FastifyRequest, reply: FastifyReply, signedIn: SignedIn): Promise<void> {
    await this.deps.sessions.delete(signedIn.idDigest);
    reply.header('set-cookie', this.cookie(request, '', 0));
  }

  /**
   * A form's proof that it came from a page this session was shown: its synchronizer token, and
   * — when the browser says where the request came from — our own origin. SameSite=Strict
   * already keeps the cookie off cross-site requests; this holds even where it would not.
   */
  formIsGenuine(request: FastifyRequest, signedIn: SignedIn, presented: string | undefined): boolean {
    if (!presented) return false;
    const a = Buffer.from(presented);
    const b = Buffer.from(signedIn.csrfToken);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return false;
    const origin = request.headers.origin;
    if (origin && origin !== 'null') {
      const host = request.headers['x-forwarded-host'] ?? request.headers.host;
      try {
        if (new URL(origin).host !== host) return false;
      } catch {
        return false;
      }
    }
    return true;
  }

  private cookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
    return stringifySetCookie({
      name: SESSION_COOKIE,
      value,
      httpOnly: true,
      sameSite: 'strict',
      secure: overHttps(request),
      path: '/console',
      maxAge: maxAgeSeconds,
    });
  }
}
