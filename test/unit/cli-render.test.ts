import { describe, expect, it } from 'vitest';
import { followDeployment } from '../../src/cli/follow.ts';
import { renderAlerts } from '../../src/cli/render-alerts.ts';
import { renderDeployment, renderHistory, renderStatus, type TargetStatusView } from '../../src/cli/render.ts';
import type { Deployment } from '../../src/domain/deployment.ts';
import { toDeploymentView, type DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Evaluation } from '../../src/domain/metric-triggers.ts';
import { STAGES, type Stage } from '../../src/domain/stages.ts';
import type { StoredAlert } from '../../src/ports/alert-outbox.ts';
import { APP_JSON, BLUE, GREEN, HEALTHY_CHECKS, inStage, iso, SECOND } from '../support/domain-fixtures.ts';

/** The human output of the CLI, from the same views the API returns. */

const view = (stage: Stage, overrides: Partial<Deployment> = {}): DeploymentView => toDeploymentView(inStage(stage, overrides));

/** The CLI's one time format, and any other (ISO with a T, a bare time of day) that must not appear beside it. */
const CLI_TIME = /\b\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z/g;
const OTHER_TIME = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}|(?<![-\d])\d{2}:\d{2}:\d{2}(?!Z)/;

function clear(signal: Evaluation['signal'], unit: Evaluation['unit'], values: number[], threshold: number): Evaluation {
  return {
    signal,
    verdict: 'clear',
    threshold,
    unit,
    sustainedForMs: 6 * SECOND,
    values,
    samples: values.length,
    source: APP_JSON,
    // What the bot writes: its rounding makes a sub-millisecond average "0 ms".
    summary: `${signal} at most 0 ${unit} ≤ ${threshold} ${unit} over the last ${values.length} conclusive sample(s) (${APP_JSON})`,
  };
}

describe('renderDeployment', () => {
  it('right after deploy shows only what is known: no "blue: —", no "split no deployment"', () => {
    const text = renderDeployment(view('requested'));
    expect(text).toContain('version    v2');
    expect(text).not.toContain('blue:');
    expect(text).not.toContain('—\n');
    expect(text).not.toContain('no deployment');
    expect(text).not.toMatch(/^\s+split/m);
  });

  it('once the release is resolved, names blue and the split it read', () => {
    const text = renderDeployment(view('awaiting_approval'));
    expect(text).toContain(`blue: v1 (${BLUE.id.slice(0, 8)})`);
    expect(text).toMatch(new RegExp(`split\\s+v1 \\(${BLUE.id.slice(0, 8)}\\) 100 %, v2 \\(${GREEN.id.slice(0, 8)}\\) 0 %`));
  });

  it('says a clear response time under a millisecond as such, never "at most 0 ms"', () => {
    const d = view('monitoring', {
      progress: {
        attempt: 0,
        lastEvaluations: [clear('response-time', 'ms', [0.3, 0.4], 2000), clear('error-rate', '%', [0, 0], 5)],
      },
    });
    const text = renderDeployment(d);
    expect(text).not.toMatch(/\b0 ms/);
    expect(text).toContain(`clear: average response time at worst under 1 ms, limit 2000 ms (2 samples, ${APP_JSON})`);
    expect(text).toContain(`clear: error rate at worst 0 %, limit 5 % (2 samples, ${APP_JSON})`);
  });

  it('prints every time in one format, including the times inside reasons', () => {
    const d = toDeploymentView(inStage('monitoring', { reason: `watching: 2 clean sample(s), window ends ${iso(5 * 60 * SECOND)}` }), {
      events: [
        { deploymentId: 'dep-0001', at: iso(), actor: 'bob', action: 'approved', fromStage: 'awaiting_approval', toStage: 'switching', details: { reason: `approved at ${iso()}` } },
      ],
    });
    const text = renderDeployment(d);
    expect(text.match(CLI_TIME)!.length).toBeGreaterThanOrEqual(3);
    expect(text).not.toMatch(OTHER_TIME);
  });
});

describe('renderHistory', () => {
  it('starts with a header row that names the columns', () => {
    const lines = renderHistory([view('succeeded'), view('rolled_back', { id: 'dep-0002' })]).split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^id\s+target\s+kind\s+stage\s+version\s+by\s+requested \(UTC\)$/);
    expect(lines[1]).toMatch(/^dep-0001\s+kevinstamp\/production\s+release\s+succeeded\s+v2 \(bbbbbbbb\)\s+alice\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}Z$/);
    // The columns line up under their titles.
    expect(lines[1]!.indexOf('kevinstamp/')).toBe(lines[0]!.indexOf('target'));
    expect(lines[1]!.indexOf('alice')).toBe(lines[0]!.indexOf('by'));
  });
});

describe('stage names in sentences', () => {
  const target = (active: DeploymentView | null, lastFinished: DeploymentView | null): TargetStatusView => ({
    service: 'kevinstamp',
    environment: 'production',
    protected: true,
    live: GREEN,
    split: { [GREEN.id]: 100 },
    active,
    queue: [],
    lock: null,
    lastFinished,
  });

  it.each(STAGES.filter((s) => s !== 'requested'))('status puts %s into its sentences in words, never a raw stage name or "is succeeded"', (stage) => {
    const d = view(stage);
    const text = renderStatus([target(stage === 'succeeded' || stage === 'rolled_back' ? null : d, d)]);
    expect(text).not.toMatch(/\bis (succeeded|failed|rolled back|rejected|expired|cancelled)\b/);
    expect(text).not.toMatch(/dep-0001 [a-z]+_[a-z]+/);
  });

  it('reads as English for finished releases', () => {
    expect(renderStatus([target(null, view('succeeded'))])).toMatch(/last\s+dep-0001 succeeded at /);
    expect(renderStatus([target(null, view('rolled_back'))])).toMatch(/last\s+dep-0001 was rolled back at /);
    expect(renderStatus([target(view('awaiting_approval'), null)])).toMatch(/active\s+dep-0001 is awaiting approval — /);
  });
});

describe('renderAlerts', () => {
  it('prints its times in the CLI format', () => {
    const alert = {
      id: 1,
      kind: 'rollback-started',
      level: 'critical',
      title: 'kevinstamp/production is rolling back',
      facts: { service: 'kevinstamp', environment: 'production' },
      incidentKey: 'kd-1:rollback',
      createdAt: iso(),
      resolvedAt: iso(SECOND),
      acknowledgedAt: null,
      acknowledgedBy: null,
      deliveries: [{ channel: 'slack', status: 'delivered', attempts: 1, deliveredAt: iso(SECOND), nextAttemptAt: iso(), lastError: null }],
    } as unknown as StoredAlert;
    const text = renderAlerts([alert]);
    expect(text.match(CLI_TIME)).toHaveLength(3);
    expect(text).not.toMatch(OTHER_TIME);
  });

  it('says how far an SMS delivery got, per number', () => {
    const ref = JSON.stringify({ sent: { '+15551230001': 'SM01' }, pending: { '+15551230002': iso() }, refused: { '+15550000000': 'not a valid phone number (21211)' } });
    const alert = {
      kind: 'rollback-failed',
      level: 'emergency',
      title: 'the rollback needs a person',
      facts: { service: 'kevinstamp', environment: 'production' },
      createdAt: iso(),
      resolvedAt: null,
      acknowledgedAt: null,
      deliveries: [
        { channel: 'sms', status: 'pending', attempts: 2, deliveredAt: null, nextAttemptAt: iso(SECOND), lastError: 'Twilio answered 503', ref },
        { channel: 'email', status: 'delivered', attempts: 1, deliveredAt: iso(SECOND), nextAttemptAt: iso(), lastError: null, ref: '{"sent":{"x":"y"}}' },
      ],
    } as unknown as StoredAlert;
    const lines = renderAlerts([alert]).split('\n');
    expect(lines.find((l) => l.includes(' sms '))).toMatch(/… sms +pending +2 attempt\(s\), last: Twilio answered 503; next .*; 1 number texted, 1 refused, 1 unconfirmed$/);
    expect(lines.find((l) => l.includes(' email '))).not.toMatch(/texted/);
  });
});

describe('followDeployment', () => {
  /** Serves the views in order, then the last one for ever. */
  function api(views: DeploymentView[]) {
    let i = 0;
    return { get: async <T>() => views[Math.min(i++, views.length - 1)] as T };
  }

  const monitoring = (samples: number, values: number[]) =>
    view('monitoring', {
      reason: `watching: ${samples} clean sample(s), window ends ${iso(30 * SECOND)}`,
      progress: {
        attempt: 0,
        lastChecks: HEALTHY_CHECKS,
        lastEvaluations: [clear('response-time', 'ms', values, 2000)],
      },
    });

  it('prints a block when something changed, not again for each clean sample; one time format throughout', async () => {
    const printed: string[] = [];
    const code = await followDeployment(
      api([
        view('requested'),
        view('requested'),
        view('resolving'),
        monitoring(1, [0.2]),
        monitoring(2, [0.2, 0.3]),
        monitoring(3, [0.2, 0.3, 0.25]),
        monitoring(4, [0.3, 0.25, 0.4]),
        view('succeeded', { reason: 'monitoring window of 30s passed clean (4 samples)' }),
      ]),
      'dep-0001',
      (text) => printed.push(text),
      { intervalMs: 0, now: () => new Date('2025-06-01T12:00:00.000Z') },
    );
    expect(code).toBe(0);
    const heads = printed.map((p) => p.split('\n')[0]!);
    expect(heads.map((h) => h.split(/\s{2,}/)[1])).toEqual(['requested', 'resolving', 'monitoring', 'succeeded']);
    const all = printed.join('\n');
    expect(all.match(/watching:/g)).toHaveLength(1);
    expect(all).not.toContain('no deployment');
    expect(all).not.toMatch(/\b0 ms/);
    expect(all).toContain('under 1 ms');
    for (const head of heads) expect(head).toMatch(/^2025-06-01 12:00:00Z {2}/);
    expect(all).not.toMatch(OTHER_TIME);
  });

  it('prints again when a check fails or a trigger starts building, with only the lines that changed', async () => {
    const failing = view('monitoring', {
      reason: 'watching: 1 consecutive failing sample(s) — health: 503 from /health',
      progress: { attempt: 0, lastChecks: HEALTHY_CHECKS.map((c) => (c.name === 'health' ? { ...c, ok: false } : c)), lastEvaluations: [clear('response-time', 'ms', [0.2], 2000)] },
    });
    const printed: string[] = [];
    const code = await followDeployment(api([monitoring(1, [0.2]), failing, view('rolled_back')]), 'dep-0001', (text) => printed.push(text), { intervalMs: 0 });
    expect(code).toBe(1);
    expect(printed).toHaveLength(3);
    expect(printed[1]).toContain('✗ health');
    // The split did not change between the two monitoring looks: not printed again.
    expect(printed[1]).not.toMatch(/^\s+split/m);
  });
});
