import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.ts';
import { parseDeployCommand, parseRollbackCommand } from '../../src/adapters/slack/slash-command-parser.ts';

/**
 * The Slack app manifest and the shared commands must agree: what Slack offers people to type is
 * what kevin-deploy understands, and the hints Slack shows mention every subcommand and option.
 */

interface SlashCommand {
  command: string;
  usage_hint: string;
  description: string;
}

const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8')) as {
  features: { slash_commands: SlashCommand[] };
};
const slashCommands = manifest.features.slash_commands;
const declared = slashCommands.map((c) => c.command);
const chatLines = Object.entries(COMMANDS).flatMap(([name, c]) => (c.chatUsage ? [{ name, usage: c.chatUsage }] : []));

/** `/deploy lock SERVICE [ENV] REASON…` → { slash: '/deploy', subcommand: 'lock', rest: 'SERVICE [ENV] REASON…' } */
function split(usage: string): { slash: string; subcommand: string | undefined; rest: string } {
  const [slash, second, ...more] = usage.split(' ');
  // A subcommand is a literal lowercase word; SERVICE, [ENV] … are placeholders.
  const isSub = second !== undefined && /^[a-z]+$/.test(second);
  return { slash: slash!, subcommand: isSub ? second : undefined, rest: (isSub ? more : [second ?? '', ...more]).join(' ').trim() };
}

function optionsOf(text: string): string[] {
  return [...text.matchAll(/--[a-z]+/g)].map((m) => m[0]);
}

describe('manifest.yml slash commands and commands/ agree', () => {
  it('chat has a typed form for what people type, and only buttons for what they click on a card', () => {
    expect(chatLines.map((l) => l.name).sort()).toEqual(['deploy', 'help', 'history', 'lock', 'rollback', 'status', 'unlock']);
    expect(Object.keys(COMMANDS).filter((name) => !chatLines.some((l) => l.name === name)).sort()).toEqual(['approve', 'cancel', 'promote', 'reject', 'show']);
  });

  it('every command with a chatUsage starts with a slash command the manifest declares', () => {
    for (const { name, usage } of chatLines) {
      expect(declared, `${name}: ${usage}`).toContain(split(usage).slash);
    }
  });

  it('every slash command of the manifest is used by at least one command', () => {
    for (const command of declared) {
      expect(chatLines.some((l) => split(l.usage).slash === command), command).toBe(true);
    }
  });

  it('the usage hint of each slash command mentions each of its subcommands', () => {
    for (const { command, usage_hint } of slashCommands) {
      const subcommands = chatLines.map((l) => split(l.usage)).filter((s) => s.slash === command && s.subcommand).map((s) => s.subcommand!);
      for (const sub of subcommands) expect(usage_hint, `${command} hint: ${sub}`).toMatch(new RegExp(`(^|[\\s|])${sub}($|[\\s|])`));
    }
    // The ones people need to find, by name.
    const deployHint = slashCommands.find((c) => c.command === '/deploy')!.usage_hint;
    for (const sub of ['status', 'history', 'lock', 'unlock', 'help']) expect(deployHint).toContain(sub);
  });

  it('the usage hint of each slash command mentions every option its chat usage lines offer', () => {
    for (const { command, usage_hint } of slashCommands) {
      const options = new Set(chatLines.filter((l) => split(l.usage).slash === command).flatMap((l) => optionsOf(l.usage)));
      for (const option of options) expect(usage_hint, `${command} hint: ${option}`).toContain(option);
    }
  });

  it('every option a hint names is a flag the command table gives one of that slash command\'s commands (which chat accepts)', () => {
    for (const { command, usage_hint } of slashCommands) {
      const tableFlags = new Set(
        Object.values(COMMANDS)
          .filter((c) => c.chat?.slash === command)
          .flatMap((c) => (c.forms[0]?.flags ?? []).map((f) => `--${f.flag}`)),
      );
      for (const option of optionsOf(usage_hint)) expect([...tableFlags], `${command} hint: ${option}`).toContain(option);
      for (const { name, usage } of chatLines.filter((l) => split(l.usage).slash === command)) {
        for (const option of optionsOf(usage)) expect([...tableFlags], `${name}: ${option}`).toContain(option);
      }
    }
  });

  it('the release form of /deploy in the hint is the one of the deploy command', () => {
    const deployHint = slashCommands.find((c) => c.command === '/deploy')!.usage_hint;
    expect(deployHint.split(' | ')[0]).toBe(split(COMMANDS.deploy.chatUsage!).rest);
  });

  it('each subcommand named in a hint is understood by the parser (not taken for a service name)', () => {
    const deployHint = slashCommands.find((c) => c.command === '/deploy')!.usage_hint;
    const subcommands = deployHint.split(' | ').slice(1).map((s) => s.split(' ')[0]!);
    expect(subcommands.length).toBeGreaterThan(0);
    for (const sub of subcommands) {
      const parsed = parseDeployCommand(`${sub} kevinstamp production some reason`);
      // A subcommand never parses as a release of a service called like it.
      expect(parsed.kind === 'run' && parsed.command === 'deploy', sub).toBe(false);
    }
    expect(parseRollbackCommand('kevinstamp').kind).toBe('run');
  });
});
