import {
  buildSchema,
  executeSync,
  getOperationAST,
  GraphQLError,
  Kind,
  parse,
  validate,
  type DocumentNode,
  type GraphQLResolveInfo,
  type SelectionSetNode,
} from 'graphql';
import { CF_CODES, CF_MESSAGES, failure } from './cloudflare-envelope.ts';
import type { InvocationLog, LoggedInvocation } from './invocation-log.ts';

/**
 * The stand-in's GraphQL Analytics API (`POST /client/v4/graphql`), enough of it for the
 * `workersInvocationsAdaptive` dataset as kevin-deploy's Cloudflare analytics source queries it:
 *
 *   viewer { accounts(filter: {accountTag}) {
 *     workersInvocationsAdaptive(limit, filter: {scriptName, scriptVersion, status, datetime_geq/gt/leq/lt}) {
 *       sum { requests errors subrequests }
 *       quantiles { cpuTimeP50 wallTimeP50 … (P25 P50 P75 P90 P95 P99 P999) }
 *       dimensions { scriptName scriptVersion status }
 *     } } }
 *
 * Parsing, validation and execution are graphql-js against the small schema below, with
 * Cloudflare's names and lower-case scalars (so a query written for the real API validates here).
 * The figures come from real invocations (invocation-log.ts). Like Cloudflare, rows are grouped by
 * the selected dimensions and `errors` counts invocations that did not succeed; unlike Cloudflare,
 * nothing is sampled and nothing arrives late.
 *
 * Answers use Cloudflare's GraphQL envelope `{data, errors}`; a query the stand-in cannot answer —
 * a syntax error, an unknown field, argument or filter, a bad variable, another account — is
 * answered HTTP 200 with `data: null` and `errors: [{message, path, extensions: {timestamp}}]`, in
 * Cloudflare's words. A missing or unknown token gets the v4 envelope's 401, as the rest of the stand-in.
 */

export const GRAPHQL_PATH = '/graphql';

const DATASET = 'workersInvocationsAdaptive';
const MAX_LIMIT = 10_000;
const QUANTILE_LEVELS = ['25', '50', '75', '90', '95', '99', '999'];
const DIMENSIONS = ['scriptName', 'scriptVersion', 'status'] as const;
type Dimension = (typeof DIMENSIONS)[number];

const SCHEMA = buildSchema(`
  scalar string
  scalar Time
  scalar uint64
  scalar float64

  type Query {
    viewer: viewer
  }

  type viewer {
    accounts(filter: AccountFilter_InputObject!): [account!]!
  }

  input AccountFilter_InputObject {
    accountTag: string!
  }

  type account {
    ${DATASET}(limit: uint64!, filter: AccountWorkersInvocationsAdaptiveFilter_InputObject): [AccountWorkersInvocationsAdaptive!]!
  }

  input AccountWorkersInvocationsAdaptiveFilter_InputObject {
    ${DIMENSIONS.map((d) => `${d}: string`).join('\n    ')}
    datetime_geq: Time
    datetime_gt: Time
    datetime_leq: Time
    datetime_lt: Time
  }

  type AccountWorkersInvocationsAdaptive {
    sum: AccountWorkersInvocationsAdaptiveSum
    quantiles: AccountWorkersInvocationsAdaptiveQuantiles
    dimensions: AccountWorkersInvocationsAdaptiveDimensions
  }

  type AccountWorkersInvocationsAdaptiveSum {
    requests: uint64!
    errors: uint64!
    subrequests: uint64!
  }

  type AccountWorkersInvocationsAdaptiveQuantiles {
    ${['cpuTime', 'wallTime'].flatMap((metric) => QUANTILE_LEVELS.map((level) => `${metric}P${level}: float64`)).join('\n    ')}
  }

  type AccountWorkersInvocationsAdaptiveDimensions {
    ${DIMENSIONS.map((d) => `${d}: string!`).join('\n    ')}
  }
`);

export interface AnalyticsGraphqlConfig {
  apiToken: string;
  readOnlyTokens: ReadonlySet<string>;
  accountId: string;
  log: InvocationLog;
  clock: () => Date;
}

export interface AnalyticsGraphqlRequest {
  authorization: string | undefined;
  rawBody: string;
}

export interface AnalyticsGraphqlResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

export function handleAnalyticsGraphql(config: AnalyticsGraphqlConfig, request: AnalyticsGraphqlRequest): AnalyticsGraphqlResult {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? '')?.[1];
  if (token === undefined || (token !== config.apiToken && !config.readOnlyTokens.has(token))) {
    return failure(401, CF_CODES.authentication, CF_MESSAGES.authentication);
  }
  const refused = (errors: readonly GraphQLError[]): AnalyticsGraphqlResult => ({
    status: 200,
    body: {
      data: null,
      errors: errors.map((e) => ({ message: inCloudflareWords(e), path: e.path ?? null, extensions: { timestamp: config.clock().toISOString() } })),
    },
  });

  let body: { query: string; variables: Record<string, unknown>; operationName: string | undefined };
  let document: DocumentNode;
  try {
    body = parseRequestBody(request.rawBody);
    document = parse(body.query);
  } catch (error) {
    if (error instanceof GraphQLError) return refused([error]);
    throw error;
  }
  const operation = getOperationAST(document, body.operationName);
  if (operation && operation.operation !== 'query') return refused([new GraphQLError(`only queries are supported, not "${operation.operation}"`)]);
  const invalid = validate(SCHEMA, document);
  if (invalid.length > 0) return refused(invalid);

  const result = executeSync({
    schema: SCHEMA,
    document,
    rootValue: rootValue(config),
    variableValues: body.variables,
    operationName: body.operationName,
  });
  // Like Cloudflare: a query that fails anywhere answers no data at all.
  if (result.errors && result.errors.length > 0) return refused(result.errors);
  return { status: 200, body: { data: result.data, errors: null } };
}

function parseRequestBody(raw: string): { query: string; variables: Record<string, unknown>; operationName: string | undefined } {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new GraphQLError('failed to parse the request body: expected JSON {"query": …, "variables": …}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GraphQLError('the request body must be a JSON object');
  const { query, variables, operationName } = body as { query?: unknown; variables?: unknown; operationName?: unknown };
  if (typeof query !== 'string' || query.trim() === '') throw new GraphQLError('the request has no query');
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
    throw new GraphQLError('variables must be a JSON object');
  }
  return {
    query,
    variables: (variables ?? {}) as Record<string, unknown>,
    operationName: typeof operationName === 'string' && operationName !== '' ? operationName : undefined,
  };
}

/** graphql-js's wording, as Cloudflare's API says the same things; anything else as graphql-js says it. */
function inCloudflareWords(error: GraphQLError): string {
  const { message } = error;
  const syntax = /^Syntax Error: (.*)$/s.exec(message);
  if (syntax) {
    const at = error.locations?.[0];
    return `error parsing query${at ? ` at ${at.line}:${at.column}` : ''}: ${syntax[1]}`;
  }
  const hint = (rest: string | undefined) => (rest?.trim() ? ` (${rest.trim().replace(/^Did/, 'did')})` : '');
  const field = /^Cannot query field "(.+?)" on type "(.+?)"\.(.*)$/s.exec(message);
  if (field) return `unknown field "${field[1]}" on type "${field[2]}"${hint(field[3])}`;
  const inputField = /^Field "(.+?)" is not defined by type "(.+?)"\.(.*)$/s.exec(message);
  if (inputField) return `unknown field "${inputField[1]}" in the filter of type "${inputField[2]}"${hint(inputField[3])}`;
  const argument = /^Unknown argument "(.+?)" on field "(.+?)"\.(.*)$/s.exec(message);
  if (argument) return `unknown argument "${argument[1]}" on field "${argument[2]}"${hint(argument[3])}`;
  const variable = /^Variable "\$(.+?)" of required type "(.+?)" was not provided\.$/s.exec(message);
  if (variable) return `variable "$${variable[1]}" of type ${variable[2]} was not provided`;
  return message;
}

// ─── Resolvers: graphql-js calls a function-valued property of the parent with (args, context, info) ───

type Args = Record<string, unknown>;

function rootValue(config: AnalyticsGraphqlConfig): unknown {
  return {
    viewer: () => ({
      accounts: ({ filter }: { filter: { accountTag: unknown } }) => {
        if (filter.accountTag !== config.accountId) throw new GraphQLError('not authorized for that account');
        return [{ [DATASET]: (args: Args, _context: unknown, info: GraphQLResolveInfo) => datasetRows(config.log, args, info) }];
      },
    }),
  };
}

function datasetRows(log: InvocationLog, args: Args, info: GraphQLResolveInfo): unknown[] {
  const limit = args['limit'];
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new GraphQLError(`limit must be positive number and not greater than ${MAX_LIMIT}`);
  }
  const match = compileFilter((args['filter'] ?? {}) as Args);

  const grouping = selectedDimensions(info);
  const buckets = new Map<string, LoggedInvocation[]>();
  for (const invocation of log.entries()) {
    if (!match(invocation)) continue;
    const key = JSON.stringify(grouping.map((d) => dimensionOf(invocation, d)));
    const bucket = buckets.get(key);
    if (bucket) bucket.push(invocation);
    else buckets.set(key, [invocation]);
  }
  return [...buckets.values()]
    .sort((a, b) => b.length - a.length)
    .slice(0, limit)
    .map((invocations) => ({
      sum: () => ({ requests: invocations.length, errors: invocations.filter((i) => i.status !== 'success').length, subrequests: 0 }),
      quantiles: () => quantilesOf(invocations),
      dimensions: () => Object.fromEntries(DIMENSIONS.map((d) => [d, dimensionOf(invocations[0] as LoggedInvocation, d)])),
    }));
}

function compileFilter(filter: Args): (invocation: LoggedInvocation) => boolean {
  const checks: Array<(invocation: LoggedInvocation) => boolean> = [];
  for (const [name, value] of Object.entries(filter)) {
    if (value === null || value === undefined) continue; // GraphQL: a null filter value does not filter
    if (name.startsWith('datetime_')) {
      const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(at)) throw new GraphQLError(`error parsing args: ${name} must be a Time such as "2026-11-26T09:00:00Z"`);
      if (name === 'datetime_geq') checks.push((i) => i.atMs >= at);
      if (name === 'datetime_gt') checks.push((i) => i.atMs > at);
      if (name === 'datetime_leq') checks.push((i) => i.atMs <= at);
      if (name === 'datetime_lt') checks.push((i) => i.atMs < at);
      continue;
    }
    if (typeof value !== 'string') throw new GraphQLError(`error parsing args: ${name} must be a string`);
    checks.push((i) => dimensionOf(i, name as Dimension) === value);
  }
  return (invocation) => checks.every((check) => check(invocation));
}

function dimensionOf(invocation: LoggedInvocation, name: Dimension): string {
  if (name === 'scriptName') return invocation.script;
  if (name === 'scriptVersion') return invocation.versionId;
  return invocation.status;
}

/** Rows are grouped by the dimensions the query selects (fragments included), as Cloudflare groups them. */
function selectedDimensions(info: GraphQLResolveInfo): Dimension[] {
  const names = new Set<string>();
  const visit = (set: SelectionSetNode | undefined, inDimensions: boolean): void => {
    for (const selection of set?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        if (inDimensions) names.add(selection.name.value);
        else if (selection.name.value === 'dimensions') visit(selection.selectionSet, true);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        visit(selection.selectionSet, inDimensions);
      } else {
        visit(info.fragments[selection.name.value]?.selectionSet, inDimensions);
      }
    }
  };
  for (const node of info.fieldNodes) visit(node.selectionSet, false);
  return DIMENSIONS.filter((d) => names.has(d));
}

/** Every quantile field, nearest rank, in microseconds. */
function quantilesOf(invocations: LoggedInvocation[]): Record<string, number | undefined> {
  const sorted = {
    cpuTime: invocations.map((i) => i.cpuTimeUs).sort((a, b) => a - b),
    wallTime: invocations.map((i) => i.wallTimeUs).sort((a, b) => a - b),
  };
  const out: Record<string, number | undefined> = {};
  for (const metric of ['cpuTime', 'wallTime'] as const) {
    for (const level of QUANTILE_LEVELS) {
      const values = sorted[metric];
      const p = level === '999' ? 0.999 : Number(level) / 100;
      out[`${metric}P${level}`] = values[Math.min(values.length - 1, Math.max(0, Math.ceil(p * values.length) - 1))];
    }
  }
  return out;
}
