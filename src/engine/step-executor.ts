import type { TargetSettings } from '../config/schema.ts';
import type { Deployment } from '../domain/deployment.ts';
import type { Input } from '../domain/inputs.ts';
import type { Step } from '../domain/plan-step.ts';
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
  ) {}

  async execute(step: Exclude<Step, { type: 'wait' } | { type: 'none' }>, d: Deployment, settings: TargetSettings): Promise<Input> {
    switch (step.type) {
      case 'tick':
        return { type: 'tick' };
      case 'resolve':
        return this.platformCall(async () => {
          const version = await this.platform.resolveVersion(settings, step.ref);
          const live = await this.platform.readTraffic(settings);
          return { type: 'resolved', version, live };
        });
      case 'apply-split':
        return this.platformCall(async () => {
          const split = await this.platform.applySplit(settings, step.split, {
            force: d.force,
            message: `kevin-deploy ${d.id} (${d.stage})`,
          });
          return { type: 'split-verified', split };
        });
      case 'probe':
        return { type: 'checks', results: await this.runProbe(step.subject, settings) };
    }
  }

  private async runProbe(subject: Extract<Step, { type: 'probe' }>['subject'], settings: TargetSettings) {
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
