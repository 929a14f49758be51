import { findIssueOrigin, type SettingsSource } from './issue-origin.ts';
import type { ProblemList } from './problem-list.ts';
import { isPlainObject, valueAt, type PlainObject } from './raw-value.ts';
import {
  isProtectedEnvironmentName,
  type ServiceConfig,
  type TargetSettings,
  type TargetSettingsParsed,
} from './schema.ts';
import { closestMatch } from './suggest.ts';

/** One environment of one service after merging, validated (parsed is undefined when invalid). */
export interface MergedTarget {
  service: string;
  environment: string;
  /** Environment layer first, then the service layer: see findIssueOrigin. */
  sources: SettingsSource[];
  merged: unknown;
  parsed: TargetSettingsParsed | undefined;
}

export interface ResolveServicesInput {
  raw: PlainObject;
  targets: readonly MergedTarget[];
  env: Readonly<Record<string, string | undefined>>;
  problems: ProblemList;
  warnings: ProblemList;
}

/**
 * Fills what the file may leave implicit (account id from the environment, protection from the
 * environment's name, four-eyes from protection) and checks what only makes sense across
 * environments: the default environment and distinct production URLs.
 */
export function resolveServices({ raw, targets, env, problems, warnings }: ResolveServicesInput): Map<string, ServiceConfig> {
  const services = new Map<string, ServiceConfig>();
  const rawServices = isPlainObject(raw.services) ? raw.services : {};
  for (const [name, serviceRaw] of Object.entries(rawServices)) {
    if (!isPlainObject(serviceRaw)) continue;
    const serviceTargets = targets.filter((target) => target.service === name);
    const environments = new Map<string, TargetSettings>();
    for (const target of serviceTargets) {
      const resolved = resolveTarget(target, env, problems);
      if (resolved) environments.set(target.environment, resolved);
    }
    const defaultEnvironment = typeof serviceRaw.defaultEnvironment === 'string' ? serviceRaw.defaultEnvironment : undefined;
    checkDefaultEnvironment(name, defaultEnvironment, serviceRaw, serviceTargets, problems);
    warnAboutSharedUrls(serviceTargets, warnings);
    services.set(name, { name, defaultEnvironment, environments });
  }
  return services;
}

function resolveTarget(target: MergedTarget, env: ResolveServicesInput['env'], problems: ProblemList): TargetSettings | undefined {
  const { parsed } = target;
  if (!parsed) return undefined;
  const accountId = parsed.platform.accountId ?? nonEmpty(env.CLOUDFLARE_ACCOUNT_ID);
  if (accountId === undefined) {
    // Usually one account for the whole service, so point at the service when it could hold it.
    const origin = findIssueOrigin(target.sources, ['platform', 'accountId'], 'last');
    problems.report({
      path: [...origin.nodePath, ...origin.rest],
      nodePath: origin.nodePath,
      pointAt: 'key',
      message: 'no Cloudflare account id: set CLOUDFLARE_ACCOUNT_ID in the environment, or add `accountId:` under `platform:`',
    });
    return undefined;
  }
  if (!checkStrategyFitsPlatform(target, parsed, problems)) return undefined;
  const isProtected = parsed.protected ?? isProtectedEnvironmentName(target.environment);
  return {
    ...parsed,
    service: target.service,
    environment: target.environment,
    protected: isProtected,
    platform: { ...parsed.platform, accountId },
    // Four-eyes is the point of protecting an environment, so it follows protection unless said otherwise.
    approval: { ...parsed.approval, fourEyes: parsed.approval.fourEyes ?? isProtected },
  };
}

/**
 * Blue and green as two Workers switch by moving routes, and a route points at one Worker: all of
 * a hostname's traffic moves at once. So no canary steps there, and no `{script}` in Prometheus
 * queries (there are two scripts; `{version}` names the series).
 */
function checkStrategyFitsPlatform(target: MergedTarget, parsed: TargetSettingsParsed, problems: ProblemList): boolean {
  if (parsed.platform.type !== 'cloudflare-workers-routes') return true;
  let fits = true;
  const report = (path: string[], message: string) => {
    const origin = findIssueOrigin(target.sources, path);
    problems.report({ path: [...origin.nodePath, ...origin.rest], nodePath: origin.nodePath, message });
    fits = false;
  };
  if (parsed.strategy.type === 'canary') {
    report(
      ['strategy', 'type'],
      'strategy canary needs traffic split between versions, but platform cloudflare-workers-routes moves all traffic at once ' +
        '(a route points at one Worker): use strategy { type: blue-green } here, or platform type cloudflare-workers for canaries',
    );
  }
  const metrics = parsed.monitor.metrics;
  if (metrics.source === 'prometheus') {
    for (const key of ['errorRate', 'avgResponseTime', 'requests'] as const) {
      if (metrics[key].includes('{script}')) {
        report(['monitor', 'metrics', key], 'with platform cloudflare-workers-routes blue and green are two Workers, so there is no one {script}: select the series by {version}');
      }
    }
  }
  return fits;
}

function checkDefaultEnvironment(
  service: string,
  defaultEnvironment: string | undefined,
  serviceRaw: PlainObject,
  targets: readonly MergedTarget[],
  problems: ProblemList,
): void {
  if (defaultEnvironment === undefined || !isPlainObject(serviceRaw.environments)) return;
  const path = ['services', service, 'defaultEnvironment'];
  const names = Object.keys(serviceRaw.environments);
  if (!names.includes(defaultEnvironment)) {
    const suggestion = closestMatch(defaultEnvironment, names);
    problems.report({
      path,
      message:
        `"${defaultEnvironment}" is not an environment of this service` +
        (suggestion ? `; did you mean "${suggestion}"?` : '') +
        ` (its environments: ${names.join(', ')})`,
    });
    return;
  }
  const target = targets.find((t) => t.environment === defaultEnvironment);
  const written = valueAt(target?.merged, ['protected']);
  const isProtected =
    target?.parsed?.protected ?? (typeof written === 'boolean' ? written : isProtectedEnvironmentName(defaultEnvironment));
  if (isProtected) {
    problems.report({
      path,
      message:
        `"${defaultEnvironment}" is protected, and a protected environment must always be named explicitly ` +
        `(--env ${defaultEnvironment}); make an unprotected environment the default or remove defaultEnvironment`,
    });
  }
}

function warnAboutSharedUrls(targets: readonly MergedTarget[], warnings: ProblemList): void {
  const byUrl = new Map<string, MergedTarget[]>();
  for (const target of targets) {
    if (!target.parsed) continue;
    const url = normaliseUrl(target.parsed.productionUrl);
    byUrl.set(url, [...(byUrl.get(url) ?? []), target]);
  }
  for (const sharing of byUrl.values()) {
    if (sharing.length < 2) continue;
    const url = sharing[0]!.parsed!.productionUrl;
    const names = sharing.map((target) => `"${target.environment}"`).join(', ');
    // Reported where each copy is written; environments inheriting one service value collapse into one warning.
    for (const target of sharing.slice(1)) {
      const origin = findIssueOrigin(target.sources, ['productionUrl']);
      warnings.report({
        path: [...origin.nodePath, ...origin.rest],
        nodePath: origin.nodePath,
        message:
          `environments ${names} share productionUrl ${url}; ` +
          'the checks and traffic switches of one would look at the other: give each environment its own URL',
      });
    }
  }
}

function normaliseUrl(url: string): string {
  try {
    return new URL(url).href;
  } catch {
    return url;
  }
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value;
}
