import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { ReleaseSettings } from '../../src/domain/release-settings.ts';
import { AvailabilityProber } from '../../src/engine/availability-prober.ts';
import type { AvailabilityLog, SiteCheck } from '../../src/ports/availability.ts';
import type { TargetCatalog } from '../../src/ports/target-catalog.ts';
import { ManualClock, silentLogger } from '../support/alert-fixtures.ts';
import { capturedLogger } from '../support/captured-logger.ts';
import { settings } from '../support/domain-fixtures.ts';
import { waitFor } from '../support/wait-for.ts';

/**
 * The availability prober with a clock the test moves, a scripted site check and an in-memory
 * log: what it counts each round, that a site being down is a sample and a store being down only
 * a log line, what it says is the latest answer, and that it stops without leaving a check behind.
 */

const PROD = settings({ productionUrl: 'https://kevinstamp.example' });
const MAIL = settings({ productionUrl: 'https://kevinmail.example' }, { service: 'kevinmail' });
const STAGING = settings({ productionUrl: 'https://staging.kevinstamp.example' }, { environment: 'staging' });
const T0 = new Date('2026-11-30T23:59:59.000Z');

function catalog(targets: ReleaseSettings[]): TargetCatalog {
  return {
    lookup: () => {
      throw new Error('the prober only lists targets');
    },
    find: (service, environment) => targets.find((t) => t.service === service && t.environment === environment),
    hasService: (service) => targets.some((t) => t.service === service),
    all: () => targets,
  };
}

interface Recorded {
  target: string;
  at: string;
  up: boolean;
}

/** Counts in memory; `failing` makes the next records throw, as a store that went away does. */
function memoryLog(): AvailabilityLog & { recorded: Recorded[]; failing: boolean } {
  const log = {
    recorded: [] as Recorded[],
    failing: false,
    async record(target: { service: string; environment: string }, at: Date, up: boolean) {
      if (log.failing) throw new Error('connection terminated unexpectedly');
      log.recorded.push({ target: `${target.service}/${target.environment}`, at: at.toISOString(), up });
    },
    async daysSince() {
      return [];
    },
  };
  return log;
}

let prober: AvailabilityProber | undefined;
afterEach(async () => {
  await prober?.stop();
  prober = undefined;
});

describe('the availability prober', () => {
  it('checks every protected production site at once, then every interval, and counts each answer at the instant it asked', async () => {
    const clock = new ManualClock(T0);
    const log = memoryLog();
    const asked: string[] = [];
    const check: SiteCheck = async (url) => {
      asked.push(url);
      return url !== 'https://kevinmail.example';
    };
    prober = new AvailabilityProber({ targets: catalog([PROD, STAGING, MAIL]), check, log, clock, logger: silentLogger, intervalMs: 20 });
    prober.start();
    await waitFor(() => log.recorded.length >= 2);
    expect(log.recorded.slice(0, 2)).toEqual([
      { target: 'kevinstamp/production', at: T0.toISOString(), up: true },
      { target: 'kevinmail/production', at: T0.toISOString(), up: false },
    ]);

    // The next round is a new minute on the clock: counted at its own instant (here, the next UTC day).
    clock.advance(60_000);
    const later = () => log.recorded.filter((r) => r.at !== T0.toISOString());
    await waitFor(() => later().length >= 2);
    expect(later().slice(0, 2)).toEqual([
      { target: 'kevinstamp/production', at: '2026-12-01T00:00:59.000Z', up: true },
      { target: 'kevinmail/production', at: '2026-12-01T00:00:59.000Z', up: false },
    ]);
    // Staging is nobody's public business: never checked.
    expect(asked).not.toContain('https://staging.kevinstamp.example');
  });

  it('says the latest answer while it is recent (two intervals), and nothing before the first or after it grows old', async () => {
    const clock = new ManualClock(T0);
    const log = memoryLog();
    prober = new AvailabilityProber({ targets: catalog([PROD]), check: async () => false, log, clock, logger: silentLogger, intervalMs: 60_000 });
    const target = { service: 'kevinstamp', environment: 'production' };
    expect(prober.latest(target)).toBeUndefined();

    prober.start();
    await waitFor(() => log.recorded.length === 1);
    expect(prober.latest(target)).toBe(false);
    expect(prober.latest({ service: 'kevinstamp', environment: 'staging' })).toBeUndefined();
    clock.advance(120_000);
    expect(prober.latest(target)).toBe(false);
    clock.advance(1);
    expect(prober.latest(target), 'an answer older than two intervals stands for nothing').toBeUndefined();
  });

  it('counts a site that is down, or a check that throws, as a failed check — not as the end of the loop', async () => {
    const log = memoryLog();
    let round = 0;
    const check: SiteCheck = async () => {
      round++;
      if (round === 1) throw new Error('a check that broke its promise never to throw');
      return round !== 2;
    };
    prober = new AvailabilityProber({ targets: catalog([PROD]), check, log, clock: new ManualClock(T0), logger: silentLogger, intervalMs: 10 });
    prober.start();
    await waitFor(() => log.recorded.length >= 3);
    expect(log.recorded.slice(0, 3).map((r) => r.up)).toEqual([false, false, true]);
  });

  it('survives a store that fails: says so in the log, loses those samples, and counts again once the store is back', async () => {
    const { logger, logs } = capturedLogger();
    const log = memoryLog();
    log.failing = true;
    prober = new AvailabilityProber({ targets: catalog([PROD, MAIL]), check: async () => true, log, clock: new ManualClock(T0), logger, intervalMs: 10 });
    prober.start();
    await waitFor(() => logs.length >= 2);
    const line = JSON.parse(logs[0]!) as { level: number; msg: string; unrecorded: number; err: { message: string } };
    expect(line).toMatchObject({ level: 40, msg: 'could not record the availability checks; the next round tries again', unrecorded: 2, err: { message: 'connection terminated unexpectedly' } });
    expect(log.recorded).toEqual([]);

    log.failing = false;
    await waitFor(() => log.recorded.length >= 2);
    expect(log.recorded.slice(0, 2).map((r) => r.target)).toEqual(['kevinstamp/production', 'kevinmail/production']);
  });

  it('stops cleanly: the check in flight is aborted and awaited, not counted, and no round follows', async () => {
    const log = memoryLog();
    let inFlight = 0;
    let settled = 0;
    // A site that does not answer: the check ends only when the prober aborts it (and takes a moment to).
    const check: SiteCheck = (_url, signal) =>
      new Promise((resolve) => {
        inFlight++;
        signal?.addEventListener('abort', () =>
          setTimeout(() => {
            settled++;
            resolve(false);
          }, 30),
        );
      });
    const stopping = new AvailabilityProber({ targets: catalog([PROD, MAIL]), check, log, clock: new ManualClock(T0), logger: silentLogger, intervalMs: 10 });
    stopping.start();
    await waitFor(() => inFlight === 2);

    await stopping.stop();
    expect(settled, 'stop waited for the checks it aborted').toBe(2);
    expect(log.recorded, 'an aborted check says nothing about the site').toEqual([]);
    await sleep(50);
    expect(inFlight, 'no round after stop').toBe(2);
    await stopping.stop();
  });
});
