import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import type { ConfigProblem } from './config-problem.ts';
import { mergeSettings } from './merge-settings.ts';
import { ProblemList } from './problem-list.ts';
import { isPlainObject, type PlainObject } from './raw-value.ts';
import { isMissingKey, issuePath, reportIssue } from './report-issue.ts';
import { checkAlertingEnv } from './check-alerting-env.ts';
import { checkApiTokens } from './check-api-tokens.ts';
import { resolveServices, type MergedTarget } from './resolve-services.ts';
import { configFileSchema, targetSettingsSchema, type KevinDeployConfig } from './schema.ts';
import { discriminatorOf, schemaAt, type PathSegment } from './schema-at.ts';

export type { ConfigProblem } from './config-problem.ts';

export type ConfigEnv = Readonly<Record<string, string | undefined>>;

export interface LoadConfigOptions {
  /** The file to read (unless `text` is given). */
  path: string;
  /** How to name the file in problems, e.g. relative to the working directory; defaults to `path`. */
  displayPath?: string;
  /** The file's contents, when the caller already has them (tests, stdin). */
  text?: string;
  /** The process environment, injected: CLOUDFLARE_ACCOUNT_ID and the apiTokens variables are read from it. */
  env: ConfigEnv;
}

export type LoadResult =
  | { ok: true; config: KevinDeployConfig; warnings: ConfigProblem[] }
  | { ok: false; problems: ConfigProblem[]; warnings: ConfigProblem[] };

/**
 * Reads, validates and resolves kevin-deploy.yml. Never throws for a bad file: every mistake it
 * can find comes back as a located problem, so `config check` shows them all in one run.
 */
export function loadConfig(options: LoadConfigOptions): LoadResult {
  const file = options.displayPath ?? options.path;
  let text = options.text;
  if (text === undefined) {
    try {
      text = readFileSync(options.path, 'utf8');
    } catch (error) {
      const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'the file does not exist' : String(error);
      return { ok: false, problems: [{ file, path: '', message: `cannot read the configuration: ${reason}` }], warnings: [] };
    }
  }

  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    return { ok: false, problems: doc.errors.map((error) => yamlProblem(file, text, error)), warnings: [] };
  }
  const problems = new ProblemList(file, doc, lineCounter);
  const warnings = new ProblemList(file, doc, lineCounter);
  for (const warning of doc.warnings) warnings.add(yamlProblem(file, text, warning));

  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (error) {
    // yaml refuses alias bombs ("billion laughs") here rather than while parsing.
    problems.add({ file, path: '', message: `YAML: ${error instanceof Error ? error.message : String(error)}` });
    return { ok: false, problems: problems.items(), warnings: warnings.items() };
  }
  if (raw === null || raw === undefined) {
    problems.add({ file, path: '', message: 'the file is empty; it needs at least a `services:` mapping (see kevin-deploy.example.yml)' });
    return { ok: false, problems: problems.items(), warnings: warnings.items() };
  }
  if (!isPlainObject(raw)) {
    problems.report({ path: [], message: 'the top level must be a mapping of `version`, `server`, `apiTokens`, `slack`, `alerting` and `services`' });
    return { ok: false, problems: problems.items(), warnings: warnings.items() };
  }

  // Pass 1: the file as written. Catches unknown keys and bad values at every level, including
  // service-level values that every environment happens to override.
  const parsedFile = configFileSchema.safeParse(raw);
  if (!parsedFile.success) {
    for (const issue of parsedFile.error.issues) {
      if (isIncompleteOverride(issue, raw)) continue;
      reportIssue(issue, { problems, sources: [{ yamlPath: [], value: raw }], input: raw });
    }
  }

  // Pass 2: each environment merged over its service, which is what the engine will run with.
  const targets = validateTargets(raw, problems);
  const services = resolveServices({ raw, targets, env: options.env, problems, warnings });
  checkApiTokens({ raw: raw.apiTokens, env: options.env, problems, warnings });
  checkAlertingEnv({ file, env: options.env, problems });

  // The file pass may fail only on partial overrides it deliberately ignores, so the top-level
  // settings are taken from a parse of their own.
  const { services: _services, ...topLevel } = raw;
  const parsedTop = configFileSchema.omit({ services: true }).safeParse(topLevel);
  if (problems.size > 0 || !parsedTop.success) {
    return { ok: false, problems: problems.items(), warnings: warnings.items() };
  }
  return {
    ok: true,
    config: { source: file, server: parsedTop.data.server, apiTokens: parsedTop.data.apiTokens, slack: parsedTop.data.slack, alerting: parsedTop.data.alerting, services },
    warnings: warnings.items(),
  };
}

function validateTargets(raw: PlainObject, problems: ProblemList): MergedTarget[] {
  const targets: MergedTarget[] = [];
  const services = isPlainObject(raw.services) ? raw.services : {};
  for (const [service, serviceRaw] of Object.entries(services)) {
    if (!isPlainObject(serviceRaw) || !isPlainObject(serviceRaw.environments)) continue;
    const { environments, defaultEnvironment: _default, ...serviceSettings } = serviceRaw;
    const serviceTargets: (MergedTarget & { issues: z.core.$ZodIssue[] })[] = [];
    for (const [environment, environmentRaw] of Object.entries(environments as PlainObject)) {
      // `production:` with no body is an environment without overrides.
      const overrides = environmentRaw ?? {};
      if (!isPlainObject(overrides)) continue;
      const merged = mergeSettings(serviceSettings, overrides, (path) => discriminatorOf(schemaAt(targetSettingsSchema, path)));
      const result = targetSettingsSchema.safeParse(merged);
      serviceTargets.push({
        service,
        environment,
        sources: [
          { yamlPath: ['services', service, 'environments', environment], value: overrides },
          { yamlPath: ['services', service], value: serviceSettings },
        ],
        merged,
        parsed: result.success ? result.data : undefined,
        issues: result.success ? [] : [...result.error.issues],
      });
    }
    // A key missing from every environment is one omission at the service, not one per environment.
    const missingIn = new Map<string, number>();
    for (const target of serviceTargets) {
      const keys = new Set(target.issues.filter((i) => isMissingKey(i, target.merged)).map((i) => issuePath(i).join('.')));
      for (const key of keys) missingIn.set(key, (missingIn.get(key) ?? 0) + 1);
    }
    for (const { issues, ...target } of serviceTargets) {
      for (const issue of issues) {
        const everywhere = serviceTargets.length > 1 && missingIn.get(issuePath(issue).join('.')) === serviceTargets.length;
        reportIssue(issue, { problems, sources: target.sources, input: target.merged, tieBreak: everywhere ? 'last' : 'first' });
      }
      targets.push(target);
    }
  }
  return targets;
}

/**
 * Where the settings object containing `path` starts in the file: services.<s> (length 2) or
 * services.<s>.environments.<e> (length 4); undefined outside settings.
 */
function fileSettingsRoot(path: readonly PathSegment[]): number | undefined {
  if (path[0] !== 'services' || path.length < 3) return undefined;
  if (path[2] === 'environments') return path.length >= 5 ? 4 : undefined;
  return path[2] === 'defaultEnvironment' ? undefined : 2;
}

/**
 * A service or environment may write half of a nested mapping (platform without scriptName) and
 * get the rest from the other layer, so the file pass ignores missing keys inside settings
 * mappings; the merged pass reports the ones really missing. Inside lists nothing is merged.
 */
function isIncompleteOverride(issue: z.core.$ZodIssue, raw: PlainObject): boolean {
  const path = issuePath(issue);
  const root = fileSettingsRoot(path);
  if (root === undefined || path.length <= root + 1) return false;
  return isMissingKey(issue, raw) && path.slice(root).every((segment) => typeof segment === 'string');
}


function yamlProblem(file: string, text: string, error: YAMLError): ConfigProblem {
  const position = error.linePos?.[0];
  const firstLine = error.message.split('\n')[0] ?? error.message;
  let message = firstLine.replace(/ at line \d+, column \d+:?$/, '');
  if (error.code === 'DUPLICATE_KEY') {
    const key = /^\s*("[^"]*"|'[^']*'|[^:\n]*)/.exec(text.slice(error.pos[0]))?.[1]?.trim().replace(/^["']|["']$/g, '');
    message = `duplicate key${key ? ` "${key}"` : ''}: a key may appear only once in a mapping; keep one of them`;
  }
  return {
    file,
    ...(position ? { line: position.line, column: position.col } : {}),
    path: '',
    message: `YAML: ${message}`,
  };
}
