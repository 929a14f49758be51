/**
 * Where the store lives when DATABASE_URL is not set. Its own module so the CLI can find the
 * sandbox's data directory without loading the store (Kysely, better-sqlite3).
 */
export const DEFAULT_DATABASE_URL = 'sqlite:./data/kevin-deploy.db';
