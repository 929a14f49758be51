import Fastify, { type RouteOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { argNamesOf } from '../../commands/arg-names.ts';
import { BUTTON_ACTION_IDS, buttonActionId, buttonClick } from '../../commands/card-buttons.ts';
import { pathFor, pathParamsOf, queryParamsOf, routeFor } from '../../commands/http-routes.ts';
import { COMMANDS, type AnyCommand, type CommandName } from '../../commands/index.ts';
import { buttonsFor } from '../../src/adapters/slack/deployment-card.ts';
import { CHAT_COMMANDS, parseDeployCommand, parseRollbackCommand } from '../../src/adapters/slack/slash-command-parser.ts';
import { buildProgram } from '../../src/cli/main.ts';
import { cliVerbs } from '../../src/cli/table-verbs.ts';
import { VERB_EXTRAS } from '../../src/cli/verb-extras.ts';
import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { ActionName } from '../../src/domain/release-state.ts';
import { STAGES } from '../../src/domain/stages.ts';
import type { Releases } from '../../src/ports/releases.ts';
import { registerApiRoutes } from '../../src/server/api-routes.ts';
import { ApiTokens } from '../../src/server/api-tokens.ts';
import { inStage } from '../support/domain-fixtures.ts';

/**
 * The command table (commands/) is the one place a command is declared; the CLI, the HTTP API,
 * chat and the card buttons derive from it. These tests check that each surface offers exactly
 * what the table declares.
 */

const table = Object.entries(COMMANDS) as Array<[CommandName, AnyCommand]>;

/** Arguments every command accepts, for driving each surface. */
const SAMPLE: Record<CommandName, Record<string, unknown>> = {
  deploy: { service: 'kevinstamp', version: 'v2', environment: 'production', note: 'new gallery', queue: true, force: true },
  approve: { id: 'kd-abc1234', override: true },
  reject: { id: 'kd-abc1234', comment: 'not today' },
  cancel: { id: 'kd-abc1234' },
  promote: { id: 'kd-abc1234', override: true },
  rollback: { service: 'kevinstamp', environment: 'production', to: 'v1', note: 'gallery bug' },
  show: { id: 'kd-abc1234' },
  status: { service: 'kevinstamp' },
  history: { service: 'kevinstamp', environment: 'production', limit: '5' },
  lock: { service: 'kevinstamp', environment: 'production', reason: 'launch', expiresAfter: '2h' },
  unlock: { service: 'kevinstamp', environment: 'production' },
  help: {},
};

describe('the command table', () => {
  it('names each command by its key, and its grammar and routes use only its arguments', async () => {
    for (const [name, command] of table) {
      expect(command.name).toBe(name);
      const known = argNamesOf(await command.schema());
      for (const form of command.forms) {
        for (const p of form.positionals) expect(known, `${name} positional ${p.arg}`).toContain(p.arg);
        for (const f of form.flags) expect(known, `${name} --${f.flag}`).toContain(f.arg);
      }
      for (const route of command.http ?? []) for (const param of pathParamsOf(route)) expect(known, `${name} ${route.path}`).toContain(param);
      if (command.button?.override) expect(known).toContain(command.button.override.arg);
    }
  });

  it('writes every argument of a command some way on the command line (its forms together)', async () => {
    for (const [name, command] of table) {
      if (command.forms.length === 0) continue;
      const written = command.forms.flatMap((f) => [...f.positionals.map((p) => p.arg), ...f.flags.map((f) => f.arg)]);
      for (const arg of argNamesOf(await command.schema())) expect(written, `${name}: ${arg}`).toContain(arg);
    }
  });

  it('derives the usage lines USAGE errors quote, unchanged', () => {
    expect(Object.fromEntries(table.map(([name, c]) => [name, c.usage]))).toEqual({
      deploy: 'deploy SERVICE VERSION [--env ENV] [--queue] [--note TEXT] [--force]',
      approve: 'approve ID [--override]',
      reject: 'reject ID [--comment TEXT]',
      cancel: 'cancel ID',
      promote: 'promote ID [--override]',
      rollback: 'rollback SERVICE [--env ENV] [--to VERSION] [--note TEXT]',
      status: 'status [SERVICE | ID]',
      show: 'status ID',
      history: 'history [SERVICE] [--env ENV] [--limit N]',
      lock: 'lock SERVICE [--env ENV] --reason TEXT [--for DURATION]',
      unlock: 'unlock SERVICE [--env ENV]',
      help: 'kevin-deploy --help',
    });
  });
});

describe('the CLI verbs are the table’s', () => {
  const program = buildProgram({ out: () => {}, err: () => {}, env: {}, cwd: '/' });
  const HAND_WRITTEN = ['serve', 'alerts', 'discord', 'sandbox', 'config'];

  it('has a commander verb for every command with a CLI form, and no other verb besides the hand-written ones', () => {
    const verbs = cliVerbs().map((v) => v.verb);
    expect(verbs).toEqual(['deploy', 'approve', 'reject', 'cancel', 'promote', 'rollback', 'status', 'history', 'lock', 'unlock']);
    expect(program.commands.map((c) => c.name()).sort()).toEqual([...verbs, ...HAND_WRITTEN].sort());
  });

  it('gives each verb the table’s description, arguments in order, and options', () => {
    for (const [name, command] of table) {
      if (!command.cli) continue;
      const verb = program.commands.find((c) => c.name() === (command.cli!.verb ?? name))!;
      if (command.cli.description) expect(verb.description()).toBe(command.cli.description);
      for (const form of command.forms) {
        form.positionals.forEach((p, i) => {
          const argument = verb.registeredArguments[i]!;
          expect(argument.name().split('-or-'), `${name} argument ${i}`).toContain(p.arg);
          expect(argument.description).toContain(p.description);
          // Required when every form of the verb requires it (`status ID` shares its place with an optional SERVICE).
          const forms = cliVerbs().find((v) => v.verb === verb.name())!.forms;
          expect(argument.required, `${name} argument ${i} required`).toBe(forms.every((f) => f.syntax.positionals[i] !== undefined && !f.syntax.positionals[i]!.optional));
        });
        for (const flag of form.flags) {
          const option = verb.options.find((o) => o.long === `--${flag.flag}`);
          expect(option, `${name} --${flag.flag}`).toBeDefined();
          expect(option!.description).toBe(flag.description);
          expect(option!.required, `${name} --${flag.flag} takes a value`).toBe(flag.value !== undefined);
          expect(option!.mandatory, `${name} --${flag.flag} is required`).toBe(flag.required === true);
        }
      }
    }
  });

  it('adds no option besides the table’s and the CLI’s own (--follow)', () => {
    for (const { verb, forms } of cliVerbs()) {
      const command = program.commands.find((c) => c.name() === verb)!;
      const fromTable = forms.flatMap((f) => f.syntax.flags.map((flag) => `--${flag.flag}`));
      const own = (VERB_EXTRAS[verb]?.options ?? []).map((o) => `--${o.flag}`);
      expect(command.options.map((o) => o.long).sort(), verb).toEqual([...new Set([...fromTable, ...own])].sort());
      for (const option of own) expect(fromTable, `${verb} ${option} is the CLI's own`).not.toContain(option);
    }
  });

  it('sends each command over a route the table declares for it', () => {
    for (const [name, command] of table) {
      if (!command.cli) continue;
      const route = routeFor(command, SAMPLE[name]);
      expect(command.http).toContain(route);
    }
    expect(routeFor(COMMANDS.rollback, { id: 'kd-abc1234', note: 'n' }).path).toBe('/deployments/:id/rollback');
    expect(routeFor(COMMANDS.rollback, { service: 'kevinstamp' }).path).toBe('/rollbacks');
  });
});

/** A release service that records what it is asked, for the routes' tests. */
function recordingReleases(calls: unknown[][]): Releases {
  const deployment = { ...inStage('awaiting_approval'), id: 'kd-abc1234' };
  const lock = { service: 'kevinstamp', environment: 'production', holder: 'operator', reason: 'launch', since: '2026-01-01T00:00:00.000Z', expiresAt: null };
  const record =
    <T>(method: string, answer: T) =>
    async (...args: unknown[]) => {
      calls.push([method, ...args.slice(typeof args[0] === 'object' && args[0] !== null && 'roles' in args[0] ? 1 : 0)]);
      return answer;
    };
  return {
    view: (d) => ({ id: d.id }) as unknown as DeploymentView,
    target: () => {
      throw new Error('not used');
    },
    requestRelease: record('requestRelease', deployment),
    requestRollback: record('requestRollback', deployment),
    approve: record('approve', deployment),
    promote: record('promote', deployment),
    reject: record('reject', deployment),
    cancel: record('cancel', deployment),
    rollbackDeployment: record('rollbackDeployment', deployment),
    lock: record('lock', lock),
    unlock: record('unlock', lock),
    get: record('get', { deployment, events: [], queuePosition: null }),
    list: record('list', []),
    status: record('status', []),
  };
}

describe('the HTTP API routes are the table’s', () => {
  async function app(calls: unknown[][] = []) {
    const registered: Array<{ method: string; url: string; query: readonly string[] }> = [];
    const fastify = Fastify();
    fastify.addHook('onRoute', (route: RouteOptions) => {
      for (const method of [route.method].flat()) if (method !== 'HEAD') registered.push({ method, url: route.url, query: route.config?.query ?? [] });
    });
    await registerApiRoutes(fastify, {
      releases: recordingReleases(calls),
      tokens: new ApiTokens([], { KEVIN_DEPLOY_API_TOKEN: 'tok' }),
      isDraining: () => false,
      notRouted: () => {
        throw new Error('not routed');
      },
    });
    return { fastify, registered };
  }

  it('registers every route of the table with its query allow-list, and besides them only the locks and alerts routes', async () => {
    const { registered } = await app();
    const argNames = new Map(await Promise.all(table.map(async ([name, c]) => [name, argNamesOf(await c.schema())] as const)));
    const expected = table.flatMap(([name, c]) => (c.http ?? []).map((r) => ({ method: r.method, url: `/api/v1${r.path}`, query: queryParamsOf(r, argNames.get(name)!) })));
    for (const route of expected) expect(registered).toContainEqual(route);
    const others = registered.filter((r) => !expected.some((e) => e.method === r.method && e.url === r.url));
    expect(others.map((r) => `${r.method} ${r.url}`).sort()).toEqual(['GET /api/v1/alerts', 'GET /api/v1/locks', 'POST /api/v1/alerts/acknowledge']);
    // The allow-lists docs/api.md lists.
    expect(registered.find((r) => r.method === 'GET' && r.url === '/api/v1/deployments')!.query).toEqual(['service', 'environment', 'limit']);
    expect(registered.find((r) => r.method === 'GET' && r.url === '/api/v1/status')!.query).toEqual(['service']);
  });

  it('answers each route with its success status and hands the path, query or body to the command', async () => {
    for (const [name, command] of table) {
      for (const route of command.http ?? []) {
        const calls: unknown[][] = [];
        const { fastify } = await app(calls);
        const args = name === 'rollback' && pathParamsOf(route).includes('id') ? { id: 'kd-abc1234', note: 'gallery bug' } : SAMPLE[name];
        const inPath = pathParamsOf(route);
        const rest = Object.fromEntries(Object.entries(args).filter(([k]) => !inPath.includes(k)));
        const query = route.input === 'query' ? `?${new URLSearchParams(rest as Record<string, string>)}` : '';
        const response = await fastify.inject({
          method: route.method,
          url: `/api/v1${pathFor(route, args)}${query}`,
          headers: { authorization: 'Bearer tok' },
          ...(route.input === 'body' ? { payload: rest } : {}),
        });
        expect(response.statusCode, `${route.method} ${route.path}: ${response.body}`).toBe(route.status ?? 200);
        // Every argument reaches the release service (a lock's duration arrives in milliseconds).
        const seen = JSON.stringify(calls);
        for (const [arg, value] of Object.entries(args)) if (arg !== 'expiresAfter') expect(seen, `${route.method} ${route.path} passes ${arg}`).toContain(JSON.stringify(value).replace(/^"|"$/g, ''));
        await fastify.close();
      }
    }
  });
});

describe('chat reads the table’s grammar', () => {
  const environments = (service: string) => (service === 'kevinstamp' ? ['staging', 'production'] : []);
  /** The shortest line of each chat command, and how to send it. */
  const BASE: Partial<Record<CommandName, { line: string; parse: (text: string) => ReturnType<typeof parseDeployCommand> }>> = {
    deploy: { line: 'kevinstamp v2', parse: (t) => parseDeployCommand(t, environments) },
    status: { line: 'status', parse: (t) => parseDeployCommand(t, environments) },
    history: { line: 'history', parse: (t) => parseDeployCommand(t, environments) },
    lock: { line: 'lock kevinstamp', parse: (t) => parseDeployCommand(t, environments) },
    unlock: { line: 'unlock kevinstamp', parse: (t) => parseDeployCommand(t, environments) },
    rollback: { line: 'kevinstamp', parse: (t) => parseRollbackCommand(t) },
    help: { line: 'help', parse: (t) => parseDeployCommand(t, environments) },
  };

  it('has a grammar for exactly the commands the table gives a chat form', () => {
    const chat = table.filter(([, c]) => c.chat).map(([name]) => name);
    expect([...CHAT_COMMANDS].sort()).toEqual([...chat].sort());
    expect(Object.keys(BASE).sort()).toEqual([...chat].sort());
  });

  it('runs each chat command by its chat form (subcommand or the slash command’s own form)', () => {
    for (const [name, base] of Object.entries(BASE) as Array<[CommandName, NonNullable<(typeof BASE)[CommandName]>]>) {
      const parsed = base.parse(name === 'lock' ? `${base.line} freeze` : base.line);
      if (name === 'help') expect(parsed).toEqual({ kind: 'help' });
      else expect(parsed, name).toMatchObject({ kind: 'run', command: name });
    }
  });

  it('accepts every flag the table gives a chat command, by the same name, as that argument', () => {
    for (const [name, base] of Object.entries(BASE) as Array<[CommandName, NonNullable<(typeof BASE)[CommandName]>]>) {
      for (const flag of COMMANDS[name].forms[0]?.flags ?? []) {
        const value = flag.arg === 'expiresAfter' ? '2h' : flag.arg === 'limit' ? '5' : 'production';
        // A lock needs its reason: as words, or as the --reason flag under test.
        const line = `${base.line} --${flag.flag}${flag.value ? ` ${value}` : ''}${name === 'lock' && flag.arg !== 'reason' ? ' --reason freeze' : ''}`;
        const parsed = base.parse(line);
        expect(parsed, line).toMatchObject({ kind: 'run', command: name });
        if (parsed.kind === 'run') expect(parsed.args[flag.arg], line).toBe(flag.value ? value : true);
      }
    }
  });

  it('refuses a flag the table does not give the command', () => {
    expect(parseDeployCommand('kevinstamp v2 --to v1')).toMatchObject({ kind: 'usage', message: expect.stringContaining('unknown option --to') });
    expect(parseRollbackCommand('kevinstamp --queue')).toMatchObject({ kind: 'usage', message: expect.stringContaining('unknown option --queue') });
    expect(parseDeployCommand('history --follow')).toMatchObject({ kind: 'usage', message: expect.stringContaining('unknown option --follow') });
  });
});

describe('the card buttons are the table’s', () => {
  it('handles every action id the table declares, running its command with the deployment id (and the override)', () => {
    const declared = table.flatMap(([, c]) => (c.button ? [c.button.actionId, ...(c.button.override ? [c.button.override.actionId] : [])] : []));
    expect([...BUTTON_ACTION_IDS].sort()).toEqual([...declared].sort());
    expect(new Set(declared).size).toBe(declared.length);
    for (const [name, command] of table) {
      if (!command.button) continue;
      expect(buttonClick(command.button.actionId, 'kd-abc1234')).toEqual({ command, args: { id: 'kd-abc1234' } });
      const override = command.button.override;
      if (override) expect(buttonClick(override.actionId, 'kd-abc1234')).toEqual({ command, args: { id: 'kd-abc1234', [override.arg]: true } });
      expect(buttonActionId(name)).toBe(command.button.actionId);
    }
    expect(buttonClick('kd_unknown', 'kd-abc1234')).toBeUndefined();
  });

  it('gives every action a release allows a button, and the card only shows buttons the table declares', () => {
    const actions: ActionName[] = ['approve', 'reject', 'promote', 'cancel', 'rollback'];
    for (const action of actions) expect(() => buttonActionId(action)).not.toThrow();
    for (const action of ['approve', 'promote'] as const) expect(() => buttonActionId(action, true)).not.toThrow();
    const notReady = { ready: false, detail: 'blue is gone', checkedAt: '2026-01-01T00:00:00.000Z' };
    const shown = new Set<string>();
    for (const stage of STAGES) {
      for (const progress of [{}, { rollbackReady: notReady }, { awaitingPromotion: true }, { awaitingPromotion: true, rollbackReady: notReady }, { pausedBecause: 'no traffic' }]) {
        const d = inStage(stage);
        const card = buttonsFor({ ...d, progress: { ...d.progress, ...progress } }) as Array<{ action_id: string }>;
        for (const button of card) shown.add(button.action_id);
      }
    }
    // Every declared button shows on some card, and nothing else does.
    expect([...shown].sort()).toEqual([...BUTTON_ACTION_IDS].sort());
  });
});
