import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8'));

describe('manifest.yml (Slack app manifest)', () => {
  it('has the sections Slack requires to import it', () => {
    expect(manifest.display_information.name).toBe('kevin-deploy');
    expect(manifest.features.bot_user.display_name).toBeTruthy();
    expect(manifest.oauth_config.scopes.bot).toEqual(expect.arrayContaining(['commands', 'chat:write']));
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.interactivity.request_url).toMatch(/\/slack\/events$/);
    expect(manifest.settings.event_subscriptions.bot_events).toEqual(['app_home_opened']);
    expect(manifest.features.app_home.home_tab_enabled).toBe(true);
    // Minimal scopes: nothing beyond what the bot calls.
    expect(manifest.oauth_config.scopes.bot).toEqual(['commands', 'chat:write', 'usergroups:read', 'users:read', 'users:read.email', 'channels:history', 'groups:history']);
    expect(typeof manifest.settings.socket_mode_enabled).toBe('boolean');
  });

  it('asks for no scope docs/slack.md does not explain, and the docs explain no scope it does not ask for', () => {
    const docs = readFileSync(new URL('../../docs/slack.md', import.meta.url), 'utf8');
    const table = docs.slice(docs.indexOf('| scope | needed for |'));
    const documented = [...table.split('\n\n')[0]!.matchAll(/`([a-z]+:[a-z.]+|commands)`/g)].map((m) => m[1]);
    expect([...new Set(documented)].sort()).toEqual([...manifest.oauth_config.scopes.bot].sort());
  });

  it('declares each slash command within Slack limits', () => {
    const commands = manifest.features.slash_commands as Array<Record<string, unknown>>;
    expect(commands.map((c) => c.command)).toEqual(['/deploy', '/rollback']);
    for (const c of commands) {
      expect(String(c.command).length).toBeLessThanOrEqual(32);
      expect(String(c.command)).toMatch(/^\/[a-z0-9_-]+$/);
      expect(String(c.description).length).toBeGreaterThan(0);
      expect(String(c.description).length).toBeLessThanOrEqual(2000);
      expect(String(c.usage_hint).length).toBeLessThanOrEqual(1000);
      expect(String(c.url)).toMatch(/\/slack\/events$/);
    }
  });
});
