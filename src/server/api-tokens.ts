import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiTokenConfig } from '../config/schema.ts';
import { ROLES, type Role } from '../domain/policy.ts';
import type { Actor } from '../domain/policy.ts';

interface KnownToken {
  digest: Buffer;
  actor: string;
  roles: readonly Role[];
}

export interface TokenSetup {
  tokens: ApiTokenConfig[];
  /** Names of env vars that the config names but that are not set: those actors cannot log in. */
  missing: string[];
}

/**
 * The API's bearer tokens: each configured env var's value maps to an actor and roles. With no
 * `apiTokens` in the config, $KEVIN_DEPLOY_API_TOKEN is the operator's token with every role.
 * Only SHA-256 digests are kept in memory, and comparison is constant-time.
 */
export class ApiTokens {
  private readonly known: KnownToken[] = [];
  readonly missing: string[] = [];

  constructor(configured: readonly ApiTokenConfig[], env: NodeJS.ProcessEnv) {
    const entries =
      configured.length > 0 ? configured : [{ env: 'KEVIN_DEPLOY_API_TOKEN', actor: 'operator', roles: [...ROLES] }];
    for (const entry of entries) {
      const secret = env[entry.env];
      if (!secret) {
        this.missing.push(entry.env);
        continue;
      }
      this.known.push({ digest: digest(secret), actor: entry.actor, roles: entry.roles });
    }
  }

  get count(): number {
    return this.known.length;
  }

  /** The actor for an `Authorization` header value, or undefined. */
  authenticate(header: string | undefined, via = 'api'): Actor | undefined {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
    if (!match) return undefined;
    return this.signIn(match[1]!, via)?.actor;
  }

  /** A token typed into the console's sign-in form: its actor, and the digest a session remembers it by. */
  signIn(secret: string, via = 'console'): { actor: Actor; tokenDigest: string } | undefined {
    const presented = digest(secret.trim());
    const found = this.find(presented);
    return found ? { actor: { name: found.actor, roles: found.roles, via }, tokenDigest: presented.toString('hex') } : undefined;
  }

  /**
   * The actor of a session made from the token with this digest, if that token is still
   * configured: removing a token from the environment ends its console sessions too.
   */
  actorForDigest(tokenDigest: string, via = 'console'): Actor | undefined {
    if (!/^[0-9a-f]{64}$/.test(tokenDigest)) return undefined;
    const found = this.find(Buffer.from(tokenDigest, 'hex'));
    return found ? { name: found.actor, roles: found.roles, via } : undefined;
  }

  private find(presented: Buffer): KnownToken | undefined {
    let found: KnownToken | undefined;
    // Compare against every token so the time taken does not reveal which one matched.
    for (const token of this.known) if (timingSafeEqual(token.digest, presented)) found = token;
    return found;
  }
}

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret).digest();
}
