import { performance } from 'node:perf_hooks';
import { CF_CODES, CF_MESSAGES, failure } from './cloudflare-envelope.ts';
import { resolveBehavior, SampleSite, type SampleSiteOptions, type SiteRequest, type SiteResponse, type SiteVersion } from './sample-site.ts';

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
 * The figures come from real invocations: every request the edge routed to a version and the
 * sample site answered is logged with the stand-in's (injectable) clock. Like Cloudflare, rows are
 * grouped by the selected dimensions, `errors` counts invocations that did not succeed — here the
 * sample site's 500 pages, which stand for an uncaught exception (Cloudflare's 1101 →
 * `scriptThrewException`) — and times are in microseconds. Unlike Cloudflare, nothing is sampled
 * and nothing arrives late. `cpuTime` is the measured wall time minus the behaviour's artificial
 * delay (the sandbox cannot measure CPU per request).
 *
 * Answers use Cloudflare's GraphQL envelope `{data, errors}`; a query the stand-in cannot answer —
 * a syntax error, an unknown field, argument or filter, a bad variable, another account — is
 * answered HTTP 200 with `data: null` and `errors: [{message, path, extensions: {timestamp}}]`.
 * A missing or unknown token gets the v4 envelope's 401, as the rest of the stand-in.
 */

export const GRAPHQL_PATH = '/graphql';

export type InvocationStatus = 'success' | 'scriptThrewException';

export interface InvocationRecord {
  script: string;
  versionId: string;
  /** When the invocation started, by the stand-in's clock (ISO 8601). */
  datetime: string;
  status: InvocationStatus;
  /** The HTTP status the Worker answered. */
  httpStatus: number;
  wallTimeUs: number;
  cpuTimeUs: number;
}

interface LoggedInvocation extends Omit<InvocationRecord, 'datetime'> {
  atMs: number;
}

/** Invocations served by the edge, oldest first, bounded (the oldest are forgotten first). */
export class InvocationLog {
  readonly #records: LoggedInvocation[] = [];

  constructor(readonly capacity = 200_000) {}

  record(invocation: LoggedInvocation): void {
    this.#records.push(invocation);
    if (this.#records.length > this.capacity) this.#records.splice(0, this.#records.length - this.capacity);
  }

  /** Every logged invocation of the script (or all scripts), oldest first. */
  list(script?: string): InvocationRecord[] {
    return this.#records.filter((r) => script === undefined || r.script === script).map(toRecord);
  }

  /** @internal the raw entries, for the query executor. */
  entries(): readonly LoggedInvocation[] {
    return this.#records;
  }
}

function toRecord(r: LoggedInvocation): InvocationRecord {
  const { atMs, ...rest } = r;
  return { ...rest, datetime: new Date(atMs).toISOString() };
}

export interface RecordingSampleSiteOptions extends SampleSiteOptions {
  log: InvocationLog;
  /** The script a version belongs to (version ids are unique across scripts). */
  scriptOf: (versionId: string) => string | undefined;
}

/** The sample site, logging each invocation it answers for the analytics endpoint. */
export class RecordingSampleSite extends SampleSite {
  readonly #log: InvocationLog;
  readonly #scriptOf: (versionId: string) => string | undefined;
  readonly #now: () => Date;

  constructor(options: RecordingSampleSiteOptions) {
    super(options.clock ? { clock: options.clock } : {});
    this.#log = options.log;
    this.#scriptOf = options.scriptOf;
    this.#now = options.clock ?? (() => new Date());
  }

  override async respond(version: SiteVersion, request: SiteRequest): Promise<SiteResponse> {
    const atMs = this.#now().getTime();
    const started = performance.now();
    const response = await super.respond(version, request);
    const wallMs = performance.now() - started;
    const script = this.#scriptOf(version.id);
    if (script !== undefined) {
      const delayMs = resolveBehavior(version.behavior, version.hadTraffic).latencyMs;
      this.#log.record({
        script,
        versionId: version.id,
        atMs,
        status: response.status === 500 ? 'scriptThrewException' : 'success',
        httpStatus: response.status,
        wallTimeUs: round(wallMs * 1000),
        cpuTimeUs: round(Math.max(0, wallMs - delayMs) * 1000),
      });
    }
    return response;
  }
}

// ─── The endpoint ────────────────────────────────────────────────────────────────────────────

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
  try {
    const { query, variables } = parseRequestBody(request.rawBody);
    const operation = parseDocument(query);
    const data = execute(config, operation, variables);
    return { status: 200, body: { data, errors: null } };
  } catch (error) {
    if (!(error instanceof GraphqlError)) throw error;
    return {
      status: 200,
      body: {
        data: null,
        errors: [{ message: error.message, path: error.path, extensions: { timestamp: config.clock().toISOString() } }],
      },
    };
  }
}

class GraphqlError extends Error {
  constructor(
    message: string,
    readonly path: Array<string | number> | null = null,
  ) {
    super(message);
  }
}

function parseRequestBody(raw: string): { query: string; variables: Record<string, unknown> } {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch {
    throw new GraphqlError('failed to parse the request body: expected JSON {"query": …, "variables": …}');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new GraphqlError('the request body must be a JSON object');
  const { query, variables } = body as { query?: unknown; variables?: unknown };
  if (typeof query !== 'string' || query.trim() === '') throw new GraphqlError('the request has no query');
  if (variables !== undefined && variables !== null && (typeof variables !== 'object' || Array.isArray(variables))) {
    throw new GraphqlError('variables must be a JSON object');
  }
  return { query, variables: (variables ?? {}) as Record<string, unknown> };
}

// ─── A small GraphQL parser: operations, variables, fields, aliases, arguments ──────────────

type Token =
  | { kind: 'punct'; value: string; at: number }
  | { kind: 'name'; value: string; at: number }
  | { kind: 'string'; value: string; at: number }
  | { kind: 'number'; value: number; at: number }
  | { kind: 'eof'; at: number };

type Value =
  | { kind: 'variable'; name: string }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' }
  | { kind: 'enum'; value: string }
  | { kind: 'list'; values: Value[] }
  | { kind: 'object'; fields: Array<[string, Value]> };

interface Field {
  alias: string | undefined;
  name: string;
  args: Array<[string, Value]>;
  selections: Field[] | undefined;
}

interface VariableDefinition {
  name: string;
  type: string;
  nonNull: boolean;
  defaultValue: Value | undefined;
}

interface Operation {
  variables: VariableDefinition[];
  selections: Field[];
}

const PUNCTUATORS = new Set(['!', '$', '(', ')', ':', '=', '@', '[', ']', '{', '|', '}', '&']);

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i] as string;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === ',' || c === '\uFEFF') {
      i += 1;
    } else if (c === '#') {
      while (i < source.length && source[i] !== '\n' && source[i] !== '\r') i += 1;
    } else if (source.startsWith('...', i)) {
      throw syntaxError(source, i, 'fragments are not supported by the stand-in');
    } else if (PUNCTUATORS.has(c)) {
      tokens.push({ kind: 'punct', value: c, at: i });
      i += 1;
    } else if (/[_A-Za-z]/.test(c)) {
      const match = /^[_A-Za-z][_0-9A-Za-z]*/.exec(source.slice(i)) as RegExpExecArray;
      tokens.push({ kind: 'name', value: match[0], at: i });
      i += match[0].length;
    } else if (c === '-' || /[0-9]/.test(c)) {
      const match = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(source.slice(i));
      if (!match) throw syntaxError(source, i, `unexpected character "${c}"`);
      tokens.push({ kind: 'number', value: Number(match[0]), at: i });
      i += match[0].length;
    } else if (c === '"') {
      if (source.startsWith('"""', i)) throw syntaxError(source, i, 'block strings are not supported by the stand-in');
      const start = i;
      let value = '';
      i += 1;
      for (;;) {
        const ch = source[i];
        if (ch === undefined || ch === '\n' || ch === '\r') throw syntaxError(source, start, 'unterminated string');
        if (ch === '"') break;
        if (ch === '\\') {
          const next = source[i + 1];
          const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
          if (next !== undefined && next in simple) {
            value += simple[next];
            i += 2;
          } else if (next === 'u' && /^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) {
            value += String.fromCharCode(parseInt(source.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            throw syntaxError(source, i, 'invalid escape in string');
          }
        } else {
          value += ch;
          i += 1;
        }
      }
      tokens.push({ kind: 'string', value, at: start });
      i += 1;
    } else {
      throw syntaxError(source, i, `unexpected character "${c}"`);
    }
  }
  tokens.push({ kind: 'eof', at: source.length });
  return tokens;
}

function syntaxError(source: string, at: number, what: string): GraphqlError {
  const before = source.slice(0, at);
  const line = before.split('\n').length;
  const column = at - before.lastIndexOf('\n');
  return new GraphqlError(`error parsing query at ${line}:${column}: ${what}`);
}

function parseDocument(source: string): Operation {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token => tokens[pos] as Token;
  const next = (): Token => tokens[pos++] as Token;
  const fail = (token: Token, what: string): never => {
    throw syntaxError(source, token.at, what);
  };
  const describe = (token: Token): string => (token.kind === 'eof' ? 'end of query' : `"${String(token.value)}"`);
  const isPunct = (value: string): boolean => {
    const token = peek();
    return token.kind === 'punct' && token.value === value;
  };
  const expectPunct = (value: string): void => {
    const token = next();
    if (token.kind !== 'punct' || token.value !== value) fail(token, `expected "${value}", found ${describe(token)}`);
  };
  const expectName = (): string => {
    const token = next();
    if (token.kind !== 'name') return fail(token, `expected a name, found ${describe(token)}`);
    return token.value;
  };

  const parseValue = (constant: boolean): Value => {
    const token = next();
    if (token.kind === 'punct' && token.value === '$') {
      if (constant) fail(token, 'variables are not allowed here');
      return { kind: 'variable', name: expectName() };
    }
    if (token.kind === 'string') return { kind: 'string', value: token.value };
    if (token.kind === 'number') return { kind: 'number', value: token.value };
    if (token.kind === 'name') {
      if (token.value === 'true' || token.value === 'false') return { kind: 'boolean', value: token.value === 'true' };
      if (token.value === 'null') return { kind: 'null' };
      return { kind: 'enum', value: token.value };
    }
    if (token.kind === 'punct' && token.value === '[') {
      const values: Value[] = [];
      while (!isPunct(']')) {
        if (peek().kind === 'eof') fail(peek(), 'unterminated list');
        values.push(parseValue(constant));
      }
      next();
      return { kind: 'list', values };
    }
    if (token.kind === 'punct' && token.value === '{') {
      const fields: Array<[string, Value]> = [];
      while (!isPunct('}')) {
        if (peek().kind === 'eof') fail(peek(), 'unterminated object');
        const name = expectName();
        expectPunct(':');
        fields.push([name, parseValue(constant)]);
      }
      next();
      return { kind: 'object', fields };
    }
    return fail(token, `expected a value, found ${describe(token)}`);
  };

  const parseType = (): { type: string; nonNull: boolean } => {
    let type: string;
    if (isPunct('[')) {
      next();
      const inner = parseType();
      expectPunct(']');
      type = `[${inner.type}${inner.nonNull ? '!' : ''}]`;
    } else {
      type = expectName();
    }
    const nonNull = isPunct('!');
    if (nonNull) next();
    return { type, nonNull };
  };

  const parseSelections = (): Field[] => {
    expectPunct('{');
    const fields: Field[] = [];
    while (!isPunct('}')) {
      const token = peek();
      if (token.kind === 'eof') fail(token, 'unterminated selection set');
      if (token.kind === 'punct' && token.value === '@') fail(token, 'directives are not supported by the stand-in');
      let name = expectName();
      let alias: string | undefined;
      if (isPunct(':')) {
        next();
        alias = name;
        name = expectName();
      }
      const args: Array<[string, Value]> = [];
      if (isPunct('(')) {
        next();
        while (!isPunct(')')) {
          if (peek().kind === 'eof') fail(peek(), 'unterminated arguments');
          const argName = expectName();
          expectPunct(':');
          args.push([argName, parseValue(false)]);
        }
        next();
      }
      if (isPunct('@')) fail(peek(), 'directives are not supported by the stand-in');
      const selections = isPunct('{') ? parseSelections() : undefined;
      fields.push({ alias, name, args, selections });
    }
    next();
    if (fields.length === 0) fail(peek(), 'a selection set cannot be empty');
    return fields;
  };

  const variables: VariableDefinition[] = [];
  const first = peek();
  if (first.kind === 'name') {
    if (first.value !== 'query') fail(first, `only queries are supported, not ${describe(first)}`);
    next();
    if (peek().kind === 'name') next(); // operation name
    if (isPunct('(')) {
      next();
      while (!isPunct(')')) {
        if (peek().kind === 'eof') fail(peek(), 'unterminated variable definitions');
        expectPunct('$');
        const name = expectName();
        expectPunct(':');
        const { type, nonNull } = parseType();
        let defaultValue: Value | undefined;
        if (isPunct('=')) {
          next();
          defaultValue = parseValue(true);
        }
        variables.push({ name, type, nonNull, defaultValue });
      }
      next();
    }
  }
  const selections = parseSelections();
  if (peek().kind !== 'eof') fail(peek(), 'only one operation per request is supported by the stand-in');
  return { variables, selections };
}

// ─── Execution ──────────────────────────────────────────────────────────────────────────────

const DATASET = 'workersInvocationsAdaptive';
const MAX_LIMIT = 10_000;
const SUM_FIELDS = new Set(['requests', 'errors', 'subrequests']);
const DIMENSION_FIELDS = new Set(['scriptName', 'scriptVersion', 'status']);
const QUANTILE_FIELD = /^(cpuTime|wallTime)P(25|50|75|90|95|99|999)$/;
const FILTER_FIELDS = new Set(['scriptName', 'scriptVersion', 'status', 'datetime_geq', 'datetime_gt', 'datetime_leq', 'datetime_lt']);

type Resolved = string | number | boolean | null | Resolved[] | { [key: string]: Resolved };

function execute(config: AnalyticsGraphqlConfig, operation: Operation, given: Record<string, unknown>): Record<string, unknown> {
  const variables = new Map<string, Resolved>();
  for (const definition of operation.variables) {
    if (definition.name in given && given[definition.name] !== undefined) {
      variables.set(definition.name, given[definition.name] as Resolved);
    } else if (definition.defaultValue) {
      variables.set(definition.name, resolve(definition.defaultValue, new Map(), []));
    } else if (definition.nonNull) {
      throw new GraphqlError(`variable "$${definition.name}" of type ${definition.type}! was not provided`);
    } else {
      variables.set(definition.name, null);
    }
  }

  const data: Record<string, unknown> = {};
  for (const field of operation.selections) {
    const key = field.alias ?? field.name;
    if (field.name !== 'viewer') throw new GraphqlError(`unknown field "${field.name}" on type "Query"`, [key]);
    expectNoArgs(field, [key]);
    data[key] = executeViewer(config, field, variables, [key]);
  }
  return data;
}

function executeViewer(config: AnalyticsGraphqlConfig, viewer: Field, variables: Map<string, Resolved>, path: string[]): Record<string, unknown> {
  const selections = objectSelections(viewer, path);
  const out: Record<string, unknown> = {};
  for (const field of selections) {
    const key = field.alias ?? field.name;
    const here = [...path, key];
    if (field.name !== 'accounts') {
      throw new GraphqlError(`unknown field "${field.name}" on type "viewer" (the stand-in answers accounts only)`, here);
    }
    const args = resolveArgs(field, variables, here, new Set(['filter']));
    const filter = args.get('filter');
    if (!isObject(filter) || typeof filter['accountTag'] !== 'string') {
      throw new GraphqlError('accounts needs filter: {accountTag: "<account id>"}', here);
    }
    const unknown = Object.keys(filter).filter((k) => k !== 'accountTag');
    if (unknown.length > 0) throw new GraphqlError(`unknown field "${unknown[0]}" in the filter of accounts`, here);
    if (filter['accountTag'] !== config.accountId) throw new GraphqlError('not authorized for that account', here);
    out[key] = [executeAccount(config, field, variables, [...here, 0])];
  }
  return out;
}

function executeAccount(config: AnalyticsGraphqlConfig, account: Field, variables: Map<string, Resolved>, path: Array<string | number>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of objectSelections(account, path)) {
    const key = field.alias ?? field.name;
    const here = [...path, key];
    if (field.name !== DATASET) {
      throw new GraphqlError(`unknown field "${field.name}" on type "account" (the stand-in answers ${DATASET} only)`, here);
    }
    out[key] = executeDataset(config, field, variables, here);
  }
  return out;
}

function executeDataset(config: AnalyticsGraphqlConfig, dataset: Field, variables: Map<string, Resolved>, path: Array<string | number>): unknown[] {
  const args = resolveArgs(dataset, variables, path, new Set(['limit', 'filter']));
  const limit = args.get('limit');
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new GraphqlError(`limit must be positive number and not greater than ${MAX_LIMIT}`, path);
  }
  const filter = args.get('filter') ?? {};
  if (!isObject(filter)) throw new GraphqlError('filter must be an object', path);
  const match = compileFilter(filter, path);

  // Validate the selection before reading any data, so a bad query fails the same with or without rows.
  const groups: Array<{ key: string; name: 'sum' | 'quantiles' | 'dimensions'; fields: Field[] }> = [];
  for (const field of objectSelections(dataset, path)) {
    const key = field.alias ?? field.name;
    const here = [...path, key];
    if (field.name !== 'sum' && field.name !== 'quantiles' && field.name !== 'dimensions') {
      throw new GraphqlError(`unknown field "${field.name}" on type "${DATASET}" (the stand-in answers sum, quantiles and dimensions)`, here);
    }
    expectNoArgs(field, here);
    const fields = objectSelections(field, here);
    for (const leaf of fields) {
      const leafPath = [...here, leaf.alias ?? leaf.name];
      if (leaf.selections) throw new GraphqlError('scalar fields must have no selections', leafPath);
      expectNoArgs(leaf, leafPath);
      const known =
        field.name === 'sum' ? SUM_FIELDS.has(leaf.name) : field.name === 'dimensions' ? DIMENSION_FIELDS.has(leaf.name) : QUANTILE_FIELD.test(leaf.name);
      if (!known) throw new GraphqlError(`unknown field "${leaf.name}" on type "${DATASET}.${field.name}"`, leafPath);
    }
    groups.push({ key, name: field.name, fields });
  }

  const dimensionNames = groups.filter((g) => g.name === 'dimensions').flatMap((g) => g.fields.map((f) => f.name));
  const buckets = new Map<string, LoggedInvocation[]>();
  for (const invocation of config.log.entries()) {
    if (!match(invocation)) continue;
    const key = JSON.stringify(dimensionNames.map((d) => dimensionOf(invocation, d)));
    const bucket = buckets.get(key);
    if (bucket) bucket.push(invocation);
    else buckets.set(key, [invocation]);
  }

  const rows = [...buckets.values()].sort((a, b) => b.length - a.length).slice(0, limit);
  return rows.map((invocations) => {
    const row: Record<string, unknown> = {};
    for (const group of groups) {
      const values: Record<string, unknown> = {};
      for (const leaf of group.fields) values[leaf.alias ?? leaf.name] = leafValue(group.name, leaf.name, invocations);
      row[group.key] = values;
    }
    return row;
  });
}

function dimensionOf(invocation: LoggedInvocation, name: string): string {
  if (name === 'scriptName') return invocation.script;
  if (name === 'scriptVersion') return invocation.versionId;
  return invocation.status;
}

function leafValue(group: 'sum' | 'quantiles' | 'dimensions', name: string, invocations: LoggedInvocation[]): unknown {
  const first = invocations[0] as LoggedInvocation;
  if (group === 'dimensions') return dimensionOf(first, name);
  if (group === 'sum') {
    if (name === 'requests') return invocations.length;
    if (name === 'errors') return invocations.filter((i) => i.status !== 'success').length;
    return 0; // subrequests: the sample site makes none
  }
  const [, metric, level] = QUANTILE_FIELD.exec(name) as RegExpExecArray;
  const values = invocations.map((i) => (metric === 'cpuTime' ? i.cpuTimeUs : i.wallTimeUs)).sort((a, b) => a - b);
  const p = level === '999' ? 0.999 : Number(level) / 100;
  // Nearest rank.
  return values[Math.min(values.length - 1, Math.max(0, Math.ceil(p * values.length) - 1))];
}

function compileFilter(filter: { [key: string]: Resolved }, path: Array<string | number>): (invocation: LoggedInvocation) => boolean {
  const checks: Array<(invocation: LoggedInvocation) => boolean> = [];
  for (const [name, value] of Object.entries(filter)) {
    if (!FILTER_FIELDS.has(name)) throw new GraphqlError(`unknown field "${name}" in the filter of ${DATASET}`, path);
    if (value === null) continue; // GraphQL: a null filter value does not filter
    if (name.startsWith('datetime_')) {
      const at = typeof value === 'string' ? Date.parse(value) : Number.NaN;
      if (Number.isNaN(at)) throw new GraphqlError(`error parsing args: ${name} must be a Time such as "2026-11-26T09:00:00Z"`, path);
      if (name === 'datetime_geq') checks.push((i) => i.atMs >= at);
      if (name === 'datetime_gt') checks.push((i) => i.atMs > at);
      if (name === 'datetime_leq') checks.push((i) => i.atMs <= at);
      if (name === 'datetime_lt') checks.push((i) => i.atMs < at);
      continue;
    }
    if (typeof value !== 'string') throw new GraphqlError(`error parsing args: ${name} must be a string`, path);
    checks.push((i) => dimensionOf(i, name) === value);
  }
  return (invocation) => checks.every((check) => check(invocation));
}

function resolveArgs(field: Field, variables: Map<string, Resolved>, path: Array<string | number>, allowed: Set<string>): Map<string, Resolved> {
  const args = new Map<string, Resolved>();
  for (const [name, value] of field.args) {
    if (!allowed.has(name)) throw new GraphqlError(`unknown argument "${name}" on field "${field.name}"`, path);
    args.set(name, resolve(value, variables, path));
  }
  return args;
}

function resolve(value: Value, variables: Map<string, Resolved>, path: Array<string | number>): Resolved {
  switch (value.kind) {
    case 'variable':
      if (!variables.has(value.name)) throw new GraphqlError(`variable "$${value.name}" is not defined`, path);
      return variables.get(value.name) as Resolved;
    case 'string':
    case 'number':
    case 'boolean':
      return value.value;
    case 'enum':
      return value.value;
    case 'null':
      return null;
    case 'list':
      return value.values.map((v) => resolve(v, variables, path));
    case 'object':
      return Object.fromEntries(value.fields.map(([k, v]) => [k, resolve(v, variables, path)]));
  }
}

function objectSelections(field: Field, path: Array<string | number>): Field[] {
  if (!field.selections) throw new GraphqlError('object field must have selections', path);
  return field.selections;
}

function expectNoArgs(field: Field, path: Array<string | number>): void {
  if (field.args.length > 0) throw new GraphqlError(`unknown argument "${field.args[0]![0]}" on field "${field.name}"`, path);
}

function isObject(value: Resolved | undefined): value is { [key: string]: Resolved } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
