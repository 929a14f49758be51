/**
 * Registers `/kevin` (with its `status` subcommand) for the app, with Bulk Overwrite: the list we
 * send replaces the app's commands, so running it twice changes nothing and a renamed command
 * does not linger. Guild commands appear at once (good while setting up); global ones reach every
 * server the app is in.
 *
 * Used by the CLI; errors are thrown as plain Errors that say what to fix, never with the token.
 */
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  DiscordAPIError,
  InteractionContextType,
  RateLimitError,
  REST,
  RESTJSONErrorCodes,
  Routes,
  type RESTPutAPIApplicationCommandsJSONBody,
  type RESTPutAPIApplicationCommandsResult,
  type RESTPutAPIApplicationGuildCommandsJSONBody,
} from 'discord.js';
import { DEFAULT_DISCORD_API, normaliseApiBase } from './discord-channel.ts';
import { KEVIN_COMMAND_NAME, STATUS_SUBCOMMAND_NAME } from './discord-interactions.ts';

export interface RegisterDiscordCommandsOptions {
  /** alerting.discord.applicationId. */
  applicationId: string;
  /** DISCORD_BOT_TOKEN. */
  token: string;
  /** Register in this server only (instant); without it, globally. */
  guildId?: string | undefined;
  /** Base URL without the version; default Discord's. */
  api?: string | undefined;
  timeoutMs?: number | undefined;
}

const KEVIN_COMMAND = {
  name: KEVIN_COMMAND_NAME,
  type: ApplicationCommandType.ChatInput,
  description: 'Ask how KEVIN is doing',
  options: [
    {
      type: ApplicationCommandOptionType.Subcommand,
      name: STATUS_SUBCOMMAND_NAME,
      description: 'Is KEVIN up, how long has this version been live, is anything going on?',
    },
  ],
} as const;

/** Global commands: usable in servers only (a community command), installed to servers. */
export const GLOBAL_COMMANDS: RESTPutAPIApplicationCommandsJSONBody = [
  {
    ...KEVIN_COMMAND,
    options: [...KEVIN_COMMAND.options],
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
  },
];

/** Guild commands take no contexts / integration types (they only exist in that server). */
export const GUILD_COMMANDS: RESTPutAPIApplicationGuildCommandsJSONBody = [{ ...KEVIN_COMMAND, options: [...KEVIN_COMMAND.options] }];

/** Overwrites the app's commands with `/kevin`; answers the commands as Discord stored them. */
export async function registerDiscordCommands(options: RegisterDiscordCommandsOptions): Promise<RESTPutAPIApplicationCommandsResult> {
  const rest = new REST({
    api: normaliseApiBase(options.api ?? DEFAULT_DISCORD_API),
    timeout: options.timeoutMs ?? 15_000,
    retries: 1,
    // A person is waiting at a terminal: say "try again in N s" rather than sit silently.
    rejectOnRateLimit: () => true,
  }).setToken(options.token);
  const route =
    options.guildId === undefined
      ? Routes.applicationCommands(options.applicationId)
      : Routes.applicationGuildCommands(options.applicationId, options.guildId);
  const body = options.guildId === undefined ? GLOBAL_COMMANDS : GUILD_COMMANDS;
  try {
    return (await rest.put(route, { body })) as RESTPutAPIApplicationCommandsResult;
  } catch (error) {
    // The cause is a copy with the bot token cut out: the original may quote it.
    // eslint-disable-next-line preserve-caught-error
    throw new Error(explain(error, options), { cause: redactedCause(error, options.token) });
  }
}

function explain(error: unknown, options: RegisterDiscordCommandsOptions): string {
  const where = options.guildId === undefined ? 'globally' : `in server ${options.guildId}`;
  const prefix = `could not register /kevin ${where}`;
  if (error instanceof RateLimitError) {
    return `${prefix}: Discord rate limited us; try again in ${Math.ceil(error.retryAfter / 1000)} s`;
  }
  if (error instanceof DiscordAPIError) {
    const answer = `${error.status} ${error.message.split('\n', 1)[0] ?? ''}`;
    if (error.status === 401) return `${prefix}: Discord rejected the bot token (${answer}): check DISCORD_BOT_TOKEN`;
    if (error.code === RESTJSONErrorCodes.NotAuthorizedToPerformThisActionOnThisApplication || error.code === RESTJSONErrorCodes.UnknownApplication) {
      return `${prefix}: the token's bot does not belong to application ${options.applicationId} (${answer}): check alerting.discord.applicationId`;
    }
    if (error.status === 403) {
      return `${prefix} (${answer}): invite the app to that server with the applications.commands scope, or check the ids`;
    }
    if (error.status === 404) return `${prefix} (${answer}): check alerting.discord.applicationId and the server id`;
    return `${prefix}: Discord refused the commands (${error.message.replaceAll('\n', '; ')})`;
  }
  if (error instanceof Error) return `${prefix}: could not reach Discord (${error.message.split(options.token).join('[redacted]')})`;
  return `${prefix}: ${String(error)}`;
}

/** Keeps the original error for debugging, minus anything that could carry the token (request headers are not in it; URLs are). */
function redactedCause(error: unknown, token: string): unknown {
  if (!(error instanceof Error)) return error;
  return { name: error.name, message: error.message.split(token).join('[redacted]') };
}
