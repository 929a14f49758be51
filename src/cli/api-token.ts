import { existsSync, readFileSync } from 'node:fs';
import type { ApiToken } from './api-client.ts';
import { displayPath, isProcessAlive, readBotInfo, sandboxTokenFiles } from './sandbox-token-record.ts';

/**
 * The token the CLI sends, and where it came from — so a refusal can say which token was refused.
 * $KEVIN_DEPLOY_API_TOKEN always wins. Without it, the sandbox's token file (./data/sandbox-api-token)
 * is used only for the URL the running sandbox bot recorded beside it (data/sandbox-bot.json) —
 * never for another bot on this machine, which would only answer "the bearer token is not valid".
 */
export function chooseApiToken(baseUrl: string, env: NodeJS.ProcessEnv, cwd: string): ApiToken {
  if (env.KEVIN_DEPLOY_API_TOKEN) {
    return {
      value: env.KEVIN_DEPLOY_API_TOKEN,
      source: 'the token from $KEVIN_DEPLOY_API_TOKEN',
      ifRefused: `export the API token of the bot at ${baseUrl} (an apiTokens variable it was started with), or set KEVIN_DEPLOY_URL to the bot this token belongs to`,
    };
  }
  const sandbox = sandboxTokenFor(baseUrl, env, cwd);
  if ('value' in sandbox) return sandbox;
  return { value: undefined, source: '', ifRefused: '', ...(sandbox.why ? { whyNotSandbox: sandbox.why } : {}) };
}

type SandboxToken = ApiToken | { why?: string };

function sandboxTokenFor(baseUrl: string, env: NodeJS.ProcessEnv, cwd: string): SandboxToken {
  const target = origin(baseUrl);
  if (!target || !isLoopback(new URL(target).hostname)) return {};
  let file: string;
  let botInfoFile: string;
  try {
    ({ apiTokenFile: file, botInfoFile } = sandboxTokenFiles(env, cwd));
  } catch {
    return {};
  }
  if (!existsSync(file)) return {};
  const shown = displayPath(file, cwd);
  const bot = readBotInfo(botInfoFile);
  if (!bot) return { why: `${shown} is there, but no running sandbox says which bot it belongs to` };
  if (origin(bot.url) !== target) return { why: `the sandbox token in ${shown} belongs to the sandbox at ${bot.url}, not to ${baseUrl}` };
  if (!isProcessAlive(bot.pid)) return { why: `the sandbox that wrote ${shown} (pid ${bot.pid}, ${bot.url}) is no longer running` };
  let value: string;
  try {
    value = readFileSync(file, 'utf8').trim();
  } catch {
    return {};
  }
  if (!value) return {};
  return {
    value,
    source: `the sandbox token in ${shown} (written by the sandbox serving ${bot.url})`,
    ifRefused: `restart the sandbox in this directory (\`npm start\`) so it writes its token again, or export KEVIN_DEPLOY_API_TOKEN`,
  };
}

/** "http://127.0.0.1:3000" for any spelling of it (trailing slash, "localhost"), or undefined. */
function origin(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    // localhost and 127.0.0.1 are the same bot for the sandbox, which listens on both.
    if (parsed.hostname === 'localhost') parsed.hostname = '127.0.0.1';
    return parsed.origin;
  } catch {
    return undefined;
  }
}

function isLoopback(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}
