import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../commands/index.ts';
import {
  parseDeployCommand,
  parseRollbackCommand,
  ROLLBACK_USAGE,
  tokenize,
  type ParsedSlashCommand,
} from '../../src/adapters/slack/slash-command-parser.ts';

function run(parsed: ParsedSlashCommand): { command: string; args: Record<string, unknown> } {
  if (parsed.kind !== 'run') throw new Error(`expected a command to run, got ${JSON.stringify(parsed)}`);
  return { command: parsed.command, args: parsed.args };
}

function usageOf(parsed: ParsedSlashCommand): string {
  if (parsed.kind !== 'usage') throw new Error(`expected a usage error, got ${JSON.stringify(parsed)}`);
  return parsed.message;
}

describe('tokenize', () => {
  it('splits on whitespace and keeps quoted text together', () => {
    expect(tokenize('kevinstamp  v2\tto production')).toEqual(['kevinstamp', 'v2', 'to', 'production']);
    expect(tokenize('--note "big KEVIN fix" --queue')).toEqual(['--note', 'big KEVIN fix', '--queue']);
    expect(tokenize("--note 'big KEVIN fix'")).toEqual(['--note', 'big KEVIN fix']);
  });

  it('takes the smart quotes some Slack clients send as quotes', () => {
    expect(tokenize('--note \u201cbig KEVIN fix\u201d')).toEqual(['--note', 'big KEVIN fix']);
    expect(tokenize('--note \u2018big KEVIN fix\u2019')).toEqual(['--note', 'big KEVIN fix']);
  });

  it('keeps an apostrophe inside double quotes, and an empty quoted value', () => {
    expect(tokenize('--note "KEVIN\u2019s gallery"')).toEqual(['--note', "KEVIN's gallery"]);
    expect(tokenize('--note ""')).toEqual(['--note', '']);
  });

  it('refuses an unclosed double quote', () => {
    expect(tokenize('--note "oops')).toEqual({ error: 'a quote is not closed' });
    expect(tokenize('--note \u201coops')).toEqual({ error: 'a quote is not closed' });
  });
});

describe('/deploy SERVICE VERSION [to ENV] [--queue] [--note "…"]', () => {
  const deployUsage = COMMANDS.deploy.chatUsage!;

  it('a release with only service and version', () => {
    expect(run(parseDeployCommand('kevinstamp v2'))).toEqual({ command: 'deploy', args: { service: 'kevinstamp', version: 'v2' } });
  });

  it('names the environment with "to ENV", "in ENV" or --env', () => {
    for (const text of ['kevinstamp v2 to production', 'kevinstamp v2 in production', 'kevinstamp v2 --env production', 'kevinstamp v2 --env=production']) {
      expect(run(parseDeployCommand(text)).args, text).toEqual({ service: 'kevinstamp', version: 'v2', environment: 'production' });
    }
  });

  it('--queue, --force and a quoted --note, in any order and with surrounding whitespace', () => {
    expect(run(parseDeployCommand('  kevinstamp v2 to production --queue --note "big KEVIN fix"  ')).args).toEqual({
      service: 'kevinstamp',
      version: 'v2',
      environment: 'production',
      queue: true,
      note: 'big KEVIN fix',
    });
    expect(run(parseDeployCommand('--note "big fix" --queue kevinstamp v2 to production --force')).args).toEqual({
      service: 'kevinstamp',
      version: 'v2',
      environment: 'production',
      queue: true,
      force: true,
      note: 'big fix',
    });
  });

  it('a note in smart quotes, single quotes, or one unquoted word', () => {
    expect(run(parseDeployCommand('kevinstamp v2 to production --note \u201cKEVIN\u2019s new gallery\u201d')).args.note).toBe("KEVIN's new gallery");
    expect(run(parseDeployCommand("kevinstamp v2 --note 'new gallery'")).args.note).toBe('new gallery');
    expect(run(parseDeployCommand('kevinstamp v2 --note hotfix')).args.note).toBe('hotfix');
    expect(run(parseDeployCommand('kevinstamp v2 --note=hotfix')).args.note).toBe('hotfix');
  });

  it('keeps the version as typed (tags, ids, prefixes)', () => {
    expect(run(parseDeployCommand('kevinstamp 3f2a9c1e to staging')).args.version).toBe('3f2a9c1e');
    expect(run(parseDeployCommand('kevinstamp release-2026.11.26 to staging')).args.version).toBe('release-2026.11.26');
  });

  it('usage errors quote the chat usage line and say what is wrong', () => {
    const cases: Array<[string, RegExp]> = [
      ['kevinstamp', /SERVICE and VERSION are required/],
      ['kevinstamp v2 production', /unexpected "production"/],
      ['kevinstamp v2 to', /unexpected "to"/],
      ['kevinstamp v2 to production now', /unexpected "to production now"/],
      ['kevinstamp v2 --bogus', /unknown option --bogus/],
      ['kevinstamp v2 --note', /--note needs a value/],
      ['kevinstamp v2 --note --queue', /--note needs a value/],
      ['kevinstamp v2 --env', /--env needs a value/],
    ];
    for (const [text, problem] of cases) {
      const message = usageOf(parseDeployCommand(text));
      expect(message, text).toMatch(problem);
      expect(message, text).toContain(`Usage: \`${deployUsage}\``);
    }
  });

  it('an unclosed quote is a usage error, not a release', () => {
    expect(usageOf(parseDeployCommand('kevinstamp v2 --note "oops'))).toMatch(/quote is not closed/);
  });

  it('no text at all opens the dialog', () => {
    expect(parseDeployCommand('')).toEqual({ kind: 'modal' });
    expect(parseDeployCommand('   ')).toEqual({ kind: 'modal' });
  });
});

describe('/deploy subcommands', () => {
  it('help, in any case', () => {
    expect(parseDeployCommand('help')).toEqual({ kind: 'help' });
    expect(parseDeployCommand('HELP')).toEqual({ kind: 'help' });
  });

  it('status [SERVICE]', () => {
    expect(run(parseDeployCommand('status'))).toEqual({ command: 'status', args: {} });
    expect(run(parseDeployCommand('Status kevinstamp'))).toEqual({ command: 'status', args: { service: 'kevinstamp' } });
    expect(usageOf(parseDeployCommand('status kevinstamp production'))).toContain(COMMANDS.status.chatUsage!);
  });

  it('history [SERVICE] [ENV]', () => {
    expect(run(parseDeployCommand('history'))).toEqual({ command: 'history', args: { limit: 10 } });
    expect(run(parseDeployCommand('history kevinstamp'))).toEqual({ command: 'history', args: { service: 'kevinstamp', limit: 10 } });
    expect(run(parseDeployCommand('history kevinstamp production'))).toEqual({
      command: 'history',
      args: { service: 'kevinstamp', environment: 'production', limit: 10 },
    });
    expect(usageOf(parseDeployCommand('history kevinstamp production extra'))).toContain(COMMANDS.history.chatUsage!);
  });

  const environments = (service: string) => (service === 'kevinstamp' ? ['staging', 'production'] : []);

  it('lock SERVICE ENV REASON…: the environment, then the reason words', () => {
    expect(run(parseDeployCommand('lock kevinstamp production reason words', environments))).toEqual({
      command: 'lock',
      args: { service: 'kevinstamp', environment: 'production', reason: 'reason words' },
    });
    expect(run(parseDeployCommand('lock kevinstamp production "launch day: no deploys"', environments)).args).toEqual({
      service: 'kevinstamp',
      environment: 'production',
      reason: 'launch day: no deploys',
    });
  });

  it('lock SERVICE REASON without an environment: a word is an environment only if the service has one of that name', () => {
    expect(run(parseDeployCommand('lock kevinstamp freeze', environments))).toEqual({ command: 'lock', args: { service: 'kevinstamp', reason: 'freeze' } });
    expect(run(parseDeployCommand('lock kevinstamp freeze for the launch', environments)).args).toEqual({ service: 'kevinstamp', reason: 'freeze for the launch' });
    // A quoted reason is one word; a reason that does not look like an environment name is not one.
    expect(run(parseDeployCommand('lock kevinstamp "launch freeze"')).args).toEqual({ service: 'kevinstamp', reason: 'launch freeze' });
    expect(run(parseDeployCommand('lock kevinstamp Launch freeze!')).args).toEqual({ service: 'kevinstamp', reason: 'Launch freeze!' });
  });

  it('lock without a reason is a usage error, also when only the environment is named', () => {
    expect(usageOf(parseDeployCommand('lock kevinstamp'))).toContain(COMMANDS.lock.chatUsage!);
    expect(usageOf(parseDeployCommand('lock kevinstamp production', environments))).toMatch(/a REASON is required/);
    expect(usageOf(parseDeployCommand('lock'))).toContain(COMMANDS.lock.chatUsage!);
  });

  it('lock … --for DURATION lifts by itself; a duration beyond a year or malformed is a usage error naming --for and the maximum', () => {
    expect(run(parseDeployCommand('lock kevinstamp production launch freeze --for 2h', environments))).toEqual({
      command: 'lock',
      args: { service: 'kevinstamp', environment: 'production', reason: 'launch freeze', expiresAfter: '2h' },
    });
    expect(run(parseDeployCommand('lock kevinstamp --for=8760h "launch freeze"', environments)).args).toEqual({
      service: 'kevinstamp',
      reason: 'launch freeze',
      expiresAfter: '8760h',
    });
    for (const text of ['lock kevinstamp freeze --for 99999999999h', 'lock kevinstamp freeze --for 8761h', `lock kevinstamp freeze --for ${'9'.repeat(400)}h`]) {
      const message = usageOf(parseDeployCommand(text, environments));
      expect(message, text).toMatch(/^--for must be at most 8760h \(365 days\), got "\d+h"\. Usage: /);
      expect(message, text).toContain(COMMANDS.lock.chatUsage!);
    }
    expect(usageOf(parseDeployCommand('lock kevinstamp freeze --for two-hours', environments))).toMatch(
      /^--for expects a duration such as "30m", "2h" or "48h", got "two-hours"\. Usage: /,
    );
    expect(usageOf(parseDeployCommand('lock kevinstamp freeze --for', environments))).toMatch(/^--for needs a duration such as "2h"\. Usage: /);
    expect(usageOf(parseDeployCommand('lock kevinstamp freeze --for 0s', environments))).toMatch(/^--for must be longer than 0, got "0s"\. Usage: /);
    expect(usageOf(parseDeployCommand('lock kevinstamp production --for 2h', environments))).toMatch(/a REASON is required/);
  });

  it('takes the flags the command table gives each subcommand, under the CLI\'s names', () => {
    expect(run(parseDeployCommand('history kevinstamp --env production --limit 5'))).toEqual({
      command: 'history',
      args: { service: 'kevinstamp', environment: 'production', limit: '5' },
    });
    expect(run(parseDeployCommand('unlock kevinstamp --env=production')).args).toEqual({ service: 'kevinstamp', environment: 'production' });
    expect(run(parseDeployCommand('lock kevinstamp --env production --reason "launch day" --for 2h', environments)).args).toEqual({
      service: 'kevinstamp',
      environment: 'production',
      reason: 'launch day',
      expiresAfter: '2h',
    });
    expect(usageOf(parseDeployCommand('status --verbose'))).toMatch(/^unknown option --verbose\. Usage: /);
  });

  it('lock: any other dashed word stays part of the reason; a reason given both ways is a usage error', () => {
    expect(run(parseDeployCommand('lock kevinstamp --no-deploys tonight', environments)).args).toEqual({ service: 'kevinstamp', reason: '--no-deploys tonight' });
    expect(usageOf(parseDeployCommand('lock kevinstamp freeze --reason launch', environments))).toMatch(/give the REASON once/);
    expect(usageOf(parseDeployCommand('lock kevinstamp --env production', environments))).toMatch(/a REASON is required/);
  });

  it('unlock SERVICE [ENV]', () => {
    expect(run(parseDeployCommand('unlock kevinstamp'))).toEqual({ command: 'unlock', args: { service: 'kevinstamp' } });
    expect(run(parseDeployCommand('unlock kevinstamp production'))).toEqual({
      command: 'unlock',
      args: { service: 'kevinstamp', environment: 'production' },
    });
    expect(usageOf(parseDeployCommand('unlock'))).toContain(COMMANDS.unlock.chatUsage!);
    expect(usageOf(parseDeployCommand('unlock kevinstamp production now'))).toContain(COMMANDS.unlock.chatUsage!);
  });
});

describe('/rollback SERVICE [ENV] [--to VERSION] [--note "…"]', () => {
  it('service, environment as a word or --env, --to and a quoted --note', () => {
    expect(run(parseRollbackCommand('kevinstamp'))).toEqual({ command: 'rollback', args: { service: 'kevinstamp' } });
    expect(run(parseRollbackCommand('kevinstamp production')).args).toEqual({ service: 'kevinstamp', environment: 'production' });
    expect(run(parseRollbackCommand('kevinstamp --env production')).args).toEqual({ service: 'kevinstamp', environment: 'production' });
    expect(run(parseRollbackCommand('kevinstamp production --to v1 --note \u201cv2 broke the gallery\u201d')).args).toEqual({
      service: 'kevinstamp',
      environment: 'production',
      to: 'v1',
      note: 'v2 broke the gallery',
    });
  });

  it('usage errors quote the rollback usage line', () => {
    expect(ROLLBACK_USAGE).toBe(`\`${COMMANDS.rollback.chatUsage}\``);
    for (const text of ['', 'help', 'kevinstamp production extra', 'kevinstamp --to', 'kevinstamp --queue']) {
      expect(usageOf(parseRollbackCommand(text)), text).toContain(ROLLBACK_USAGE);
    }
    expect(usageOf(parseRollbackCommand('kevinstamp --queue'))).toMatch(/unknown option --queue/);
    expect(usageOf(parseRollbackCommand('kevinstamp --note "oops'))).toMatch(/quote is not closed/);
  });
});
