import { describe, expect, it } from 'vitest';
import type { CheckResult, Progress } from '../../src/domain/deployment.ts';
import {
  MONITOR_TRIGGERS,
  contentTrigger,
  evaluateMonitorSample,
  healthFailuresTrigger,
  isContentCheck,
  type MonitorSample,
  type MonitorTrigger,
} from '../../src/domain/monitor-evaluation.ts';
import { HEALTHY_CHECKS, checksFailing, deepFreeze, iso, settings } from '../support/domain-fixtures.ts';

const S = settings();
const CONTENT_OFF = settings({ monitor: { triggers: { content: { enabled: false } } } });

const sample = (checks: CheckResult[]): MonitorSample => ({ at: iso(), checks });
const memory = (more: Partial<Progress> = {}): Progress => ({ attempt: 0, monitorEndsAt: iso(300_000), ...more });

const HEALTH_503 = checksFailing({ name: 'health', detail: '503 from /health' });
const KEVIN_MISSING = checksFailing({ name: 'content /', detail: '"KEVIN" missing on /' });
const BOTH = checksFailing({ name: 'health', detail: '503 from /health' }, { name: 'content /', detail: '"KEVIN" missing on /' });

/** Feeds samples one after another, threading the memory as decide() does. */
function run(checksList: CheckResult[][], s = S) {
  let m = memory();
  return checksList.map((checks) => {
    const result = evaluateMonitorSample(m, sample(checks), s);
    m = result.memory;
    return result;
  });
}

describe('isContentCheck', () => {
  it.each([
    ['content /', true],
    ['content /about', true],
    ['health', false],
    ['detailed', false],
    ['ready', false],
    ['version', false],
    ['reach', false],
  ])('%s → %s', (name, expected) => {
    expect(isContentCheck({ name, ok: true, detail: '' })).toBe(expected);
  });
});

describe('evaluateMonitorSample', () => {
  it('counts samples and finds nothing in a clean one', () => {
    const first = evaluateMonitorSample(memory(), sample(HEALTHY_CHECKS), S);
    expect(first).toEqual({ memory: memory({ samplesTaken: 1, consecutiveHealthFailures: 0 }) });
    const fifth = evaluateMonitorSample(memory({ samplesTaken: 4 }), sample(HEALTHY_CHECKS), S);
    expect(fifth.memory.samplesTaken).toBe(5);
    expect(fifth.finding).toBeUndefined();
  });

  it('does not mutate the memory it is given', () => {
    const m = deepFreeze(memory({ samplesTaken: 2, consecutiveHealthFailures: 1 }));
    const result = evaluateMonitorSample(m, sample(HEALTH_503), S);
    expect(m).toEqual(memory({ samplesTaken: 2, consecutiveHealthFailures: 1 }));
    expect(result.memory).toEqual(memory({ samplesTaken: 3, consecutiveHealthFailures: 2 }));
  });

  describe('the content trigger', () => {
    it('fires on the first failing content check, as an emergency, quoting the check', () => {
      const [result] = run([KEVIN_MISSING]);
      expect(result!.finding).toEqual({
        trigger: 'content',
        level: 'emergency',
        reason: 'content check failed — content /: "KEVIN" missing on /',
      });
    });

    it('quotes every failing content check, and only content checks', () => {
      const checks: CheckResult[] = [
        ...checksFailing({ name: 'content /', detail: '"KEVIN" missing on /' }, { name: 'ready', detail: '503 from /ready' }),
        { name: 'content /about', ok: false, detail: '404 from /about' },
      ];
      const result = contentTrigger(memory(), sample(checks), S);
      expect(result.finding?.reason).toBe('content check failed — content /: "KEVIN" missing on /; content /about: 404 from /about');
    });

    it('never fires when disabled in the settings, however many samples fail content', () => {
      const results = run([KEVIN_MISSING, KEVIN_MISSING, KEVIN_MISSING, KEVIN_MISSING, KEVIN_MISSING], CONTENT_OFF);
      expect(results.map((r) => r.finding)).toEqual([undefined, undefined, undefined, undefined, undefined]);
      // Content failures are not health failures either: they count toward no trigger.
      expect(results.map((r) => r.memory.consecutiveHealthFailures)).toEqual([0, 0, 0, 0, 0]);
      expect(contentTrigger(memory(), sample(KEVIN_MISSING), CONTENT_OFF)).toEqual({ memory: memory() });
    });

    it('leaves the memory as it found it', () => {
      const m = memory({ samplesTaken: 3, consecutiveHealthFailures: 2 });
      expect(contentTrigger(m, sample(KEVIN_MISSING), S).memory).toEqual(m);
    });
  });

  describe('the health-failures trigger', () => {
    it('counts consecutive failing samples and fires at the configured limit (3), critical', () => {
      const results = run([HEALTH_503, HEALTH_503, HEALTH_503]);
      expect(results.map((r) => r.memory.consecutiveHealthFailures)).toEqual([1, 2, 3]);
      expect(results.map((r) => r.finding?.trigger)).toEqual([undefined, undefined, 'health-failures']);
      expect(results[2]!.finding).toEqual({
        trigger: 'health-failures',
        level: 'critical',
        reason: '3 consecutive health-check failures (limit 3) — health: 503 from /health',
      });
    });

    it('a clean sample resets the count', () => {
      const results = run([HEALTH_503, HEALTH_503, HEALTHY_CHECKS, HEALTH_503, HEALTH_503]);
      expect(results.map((r) => r.memory.consecutiveHealthFailures)).toEqual([1, 2, 0, 1, 2]);
      expect(results.every((r) => r.finding === undefined)).toBe(true);
    });

    it('a sample failing only content is not a health failure: the count resets', () => {
      const results = run([HEALTH_503, HEALTH_503, KEVIN_MISSING], CONTENT_OFF);
      expect(results.map((r) => r.memory.consecutiveHealthFailures)).toEqual([1, 2, 0]);
    });

    it.each([
      { name: 'health', detail: '503 from /health' },
      { name: 'detailed', detail: '200 degraded; false: kevinPresent' },
      { name: 'ready', detail: '503 from /ready' },
      { name: 'version', detail: 'the app reports version aaaaaaaa, expected bbbbbbbb' },
    ])('a failing $name check counts as a health failure', (failure) => {
      const checks = checksFailing(failure);
      const result = healthFailuresTrigger(memory({ consecutiveHealthFailures: 2 }), sample(checks), S);
      expect(result.memory.consecutiveHealthFailures).toBe(3);
      expect(result.finding?.reason).toBe(`3 consecutive health-check failures (limit 3) — ${failure.name}: ${failure.detail}`);
    });

    it('reads the limit from the settings', () => {
      const once = settings({ monitor: { triggers: { healthFailures: { consecutive: 1 } } } });
      expect(run([HEALTH_503], once)[0]!.finding?.reason).toBe(
        '1 consecutive health-check failures (limit 1) — health: 503 from /health',
      );
      const five = settings({ monitor: { triggers: { healthFailures: { consecutive: 5 } } } });
      const results = run([HEALTH_503, HEALTH_503, HEALTH_503, HEALTH_503, HEALTH_503], five);
      expect(results.map((r) => r.finding !== undefined)).toEqual([false, false, false, false, true]);
    });

    it('keeps firing past the limit while failures continue (the count keeps growing)', () => {
      const result = healthFailuresTrigger(memory({ consecutiveHealthFailures: 7 }), sample(HEALTH_503), S);
      expect(result.memory.consecutiveHealthFailures).toBe(8);
      expect(result.finding?.trigger).toBe('health-failures');
    });

    it('quotes only the failing health checks, not content', () => {
      const result = healthFailuresTrigger(memory({ consecutiveHealthFailures: 2 }), sample(BOTH), S);
      expect(result.finding?.reason).toBe('3 consecutive health-check failures (limit 3) — health: 503 from /health');
    });
  });

  describe('when several triggers fire at once', () => {
    it('the content finding is quoted first; the health count is still kept', () => {
      const result = evaluateMonitorSample(memory({ consecutiveHealthFailures: 2, samplesTaken: 6 }), sample(BOTH), S);
      expect(result.finding).toEqual({
        trigger: 'content',
        level: 'emergency',
        reason: 'content check failed — content /: "KEVIN" missing on /',
      });
      expect(result.memory.consecutiveHealthFailures).toBe(3);
      expect(result.memory.samplesTaken).toBe(7);
    });

    it('with content disabled, the health finding is the one reported', () => {
      const result = evaluateMonitorSample(memory({ consecutiveHealthFailures: 2 }), sample(BOTH), CONTENT_OFF);
      expect(result.finding?.trigger).toBe('health-failures');
    });

    it('MONITOR_TRIGGERS runs content before health failures', () => {
      expect(MONITOR_TRIGGERS).toEqual([contentTrigger, healthFailuresTrigger]);
    });

    it('runs every trigger in order, threading memory, and reports the first finding', () => {
      const seen: Array<number | undefined> = [];
      const counting =
        (label: string, fires: boolean): MonitorTrigger =>
        (m) => {
          seen.push(m.samplesTaken);
          const next = { ...m, lastError: `${m.lastError ?? ''}${label}` };
          return fires ? { memory: next, finding: { trigger: label, level: 'critical', reason: label } } : { memory: next };
        };
      const result = evaluateMonitorSample(memory(), sample(HEALTHY_CHECKS), S, [
        counting('a', false),
        counting('b', true),
        counting('c', true),
      ]);
      expect(seen).toEqual([1, 1, 1]);
      expect(result.memory.lastError).toBe('abc');
      expect(result.finding).toEqual({ trigger: 'b', level: 'critical', reason: 'b' });
    });
  });
});
