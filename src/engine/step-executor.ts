import type { ReleaseSettings } from '../domain/release-settings.ts';
import type { Deployment } from '../domain/deployment.ts';
import type { Input } from '../domain/inputs.ts';
import type { Step } from '../domain/plan-step.ts';
import { systemClock, type Clock } from '../ports/clock.ts';
import type { MetricReading } from '../domain/metric-reading.ts';
import type { MetricsSource } from '../ports/metrics-source.ts';
import type { Probe } from '../ports/probe.ts';
import { PlatformError, type TrafficPlatform } from '../ports/traffic-platform.ts';

/**
 * Executes one planned step through the ports and reports what happened as an `Input` for
 * decide(). It never throws for a platform failure: failures are inputs too.
 */
export class StepExecutor {
  constructor(
    private readonly platform: TrafficPlatform,
    private readonly probe: Probe,
    /** The metrics source configured for a target (undefined for `source: none`). */
    private readonly metricsFor: (settings: ReleaseSettings) => MetricsSource | undefined = () => undefined,
    private readonly clock: Clock = systemClock,
  ) {}

  async execute(step: Exclude<Step, { type: 'wait' } | { type: 'none' }>, d: Deployment, settings: ReleaseSettings): Promise<Input> {
    switch (step.type) {
      case 'tick':
        return { type: 'tick' };
      case 'resolve':
        return this.platformCall(async () => {
          // Resolved once per release: at admission (recorded on the deployment), not again here.
          const { version, live } = step.version
            ? { version: step.version, live: await this.platform.readTraffic(settings) }
            : await this.platform.resolveWithTraffic(settings, step.ref);
          return { type: 'resolved', version, live, greenReach: this.platform.greenReach(settings) };
        });
      case 'apply-split':
        return this.platformCall(async () => {
          const split = await this.platform.applySplit(settings, step.split, {
            force: d.force,
            message: `kevin-deploy ${d.id} (${d.stage})`,
          });
          return { type: 'split-verified', split };
        });
      case 'check-readiness':
        return this.platformCall(async () => ({ type: 'readiness', ...(await this.platform.checkRollbackReadiness(settings, step.versionId)) }));
      case 'probe': {
        const [results, metrics] = await Promise.all([
          this.runProbe(step.subject, settings),
          step.metrics ? this.readMetrics(step.metrics, settings) : Promise.resolve(undefined),
        ]);
        return { type: 'checks', results, ...(metrics ? { metrics } : {}) };
      }
    }
  }

  /** Green's figures (and blue's, to compare with during a canary), each through its own routing. */
  private async readMetrics(versions: { green: string; blue?: string | undefined }, settings: ReleaseSettings) {
    const source = this.metricsFor(settings);
    if (!source) return undefined;
    const read = async (versionId: string, role: 'green' | 'blue'): Promise<MetricReading> => {
      try {
        const endpoint = await this.platform.reachVersion(settings, versionId);
        return await source.read(settings, { versionId, role, endpoint }, this.clock.now());
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        return { source: settings.monitor.metrics.source, errorRatePercent: null, avgResponseMs: null, requests: null, problem: `unreachable: ${message}` };
      }
    };
    const [green, blue] = await Promise.all([read(versions.green, 'green'), versions.blue ? read(versions.blue, 'blue') : undefined]);
    return { green, ...(blue ? { blue } : {}) };
  }

  private async runProbe(subject: Extract<Step, { type: 'probe' }>['subject'], settings: ReleaseSettings) {
    const common = {
      paths: settings.health.paths,
      contentChecks: settings.contentChecks,
      timeoutMs: settings.health.timeout,
    };
    if (subject.kind === 'live') {
      return this.probe.run({ ...common, baseUrl: settings.productionUrl, headers: {}, expectVersion: subject.expectVersion });
    }
    try {
      const endpoint = await this.platform.reachVersion(settings, subject.versionId);
      return this.probe.run({ ...common, ...endpoint, expectVersion: subject.versionId });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return [{ name: 'reach', ok: false, detail: `could not work out how to reach green: ${message}` }];
    }
  }

  private async platformCall(call: () => Promise<Input>): Promise<Input> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof PlatformError) return { type: 'platform-error', error: error.toFailure() };
      const message = error instanceof Error ? error.message : String(error);
      return { type: 'platform-error', error: { code: 'INTERNAL', message, retryable: true } };
    }
  }
}
