import { formatDuration } from './format-duration.ts';
import type { ReleaseSettings } from './release-settings.ts';
import type { MetricReading } from './metric-reading.ts';

/** One monitoring sample's figures: green's, and blue's when blue still has traffic to compare with. */
export interface MetricSample {
  at: string;
  green: MetricReading;
  blue?: MetricReading | undefined;
}

export type Verdict = 'breach' | 'ok' | 'inconclusive';

/**
 * What a trigger concluded from the samples, in numbers anyone can check: the signal, the values
 * it looked at, the threshold, the window, how many samples and from which source.
 */
export interface Evaluation {
  signal: 'error-rate' | 'response-time' | 'relative-error-rate';
  verdict: 'fired' | 'building' | 'clear' | 'inconclusive';
  threshold: number;
  unit: '%' | 'ms' | 'points';
  sustainedForMs: number;
  /** The values of the samples considered (newest last), null where inconclusive. */
  values: Array<number | null>;
  samples: number;
  source: string;
  /** One line, e.g. "error rate 20.1 % > 5 % in every sample for 2m (5 samples, app-json /metrics)". */
  summary: string;
}

interface Signal {
  signal: Evaluation['signal'];
  label: string;
  unit: Evaluation['unit'];
  threshold: number;
  sustainedForMs: number;
  /** The sample's value, or null with why it cannot be judged. */
  value(sample: MetricSample, minRequests: number): number | null;
  /** Why the sample's value is missing, when a source said so. */
  problem(sample: MetricSample): string | undefined;
}

function judged(reading: MetricReading | undefined, figure: number | null | undefined, minRequests: number): number | null {
  if (!reading || figure === null || figure === undefined || !Number.isFinite(figure)) return null;
  // No traffic proves nothing: a sample below the minimum request count is not judged.
  if (reading.requests !== null && reading.requests < minRequests) return null;
  return figure;
}

/** The metric signals configured for this target; none when the metrics source is `none`. */
export function metricSignals(settings: ReleaseSettings, blueHasTraffic: boolean): Signal[] {
  if (settings.monitor.metrics.source === 'none') return [];
  const t = settings.monitor.triggers;
  const signals: Signal[] = [
    {
      signal: 'error-rate',
      label: 'error rate',
      unit: '%',
      threshold: t.errorRate.thresholdPercent,
      sustainedForMs: t.errorRate.sustainedFor,
      value: (s, min) => judged(s.green, s.green.errorRatePercent, min),
      problem: (s) => s.green.problem,
    },
    {
      signal: 'response-time',
      label: 'average response time',
      unit: 'ms',
      threshold: t.responseTime.thresholdMs,
      sustainedForMs: t.responseTime.sustainedFor,
      value: (s, min) => judged(s.green, s.green.avgResponseMs, min),
      problem: (s) => s.green.problem,
    },
  ];
  // Comparing with blue only means something while blue still serves users (canary steps).
  if (t.relativeErrorRate && blueHasTraffic) {
    signals.push({
      signal: 'relative-error-rate',
      label: "green's error rate minus blue's",
      unit: 'points',
      threshold: t.relativeErrorRate.maxPointsAboveBlue,
      sustainedForMs: t.relativeErrorRate.sustainedFor,
      value: (s, min) => {
        const green = judged(s.green, s.green.errorRatePercent, min);
        const blue = judged(s.blue, s.blue?.errorRatePercent, min);
        return green === null || blue === null ? null : green - blue;
      },
      problem: (s) => s.green.problem ?? (s.blue ? (s.blue.problem ? `blue: ${s.blue.problem}` : undefined) : 'blue: not read'),
    });
  }
  return signals;
}

function format(value: number, unit: Evaluation['unit']): string {
  const rounded = Math.round(value * 10) / 10;
  // A fast app averages well under a millisecond: "0 ms" would read as "no answer at all".
  if (unit === 'ms') return value < 0.5 ? 'under 1 ms' : `${Math.round(value)} ms`;
  return unit === '%' ? `${rounded} %` : `${rounded} points`;
}

/** "at most 12 ms", or "under 1 ms" for a fast app ("at most under 1 ms" would not be English). */
function atMost(value: number, unit: Evaluation['unit']): string {
  const shown = format(value, unit);
  return shown.startsWith('under') ? shown : `at most ${shown}`;
}

/**
 * "Sustained for T": every sample in the run breached, and the run covers T — each sample stands
 * for the interval before it, so a run of n samples spaced `interval` apart covers
 * (last − first) + interval. A sample that is fine, inconclusive (no data, too little traffic) or
 * a gap of more than two intervals plus the health timeout between samples ends the run.
 */
/**
 * The longest two consecutive samples can be apart and still be one watch: samples come an
 * interval after the previous probe ended, and a probe of a slow green can take up to the health
 * timeout; one more interval is slack. A longer gap means nobody was watching (the bot was down).
 */
export function maxSampleGapMs(settings: ReleaseSettings): number {
  return 2 * settings.monitor.interval + settings.health.timeout;
}

export function evaluateSignal(signal: Signal, samples: readonly MetricSample[], settings: ReleaseSettings): Evaluation {
  const interval = settings.monitor.interval;
  const maxGap = maxSampleGapMs(settings);
  const min = settings.monitor.minRequests;
  const values = samples.map((s) => signal.value(s, min));
  const source = samples.at(-1)?.green.source ?? settings.monitor.metrics.source;
  let runStart = -1;
  for (let i = samples.length - 1; i >= 0; i--) {
    const v = values[i];
    if (v === null || v === undefined || v <= signal.threshold) break;
    if (i < samples.length - 1 && Date.parse(samples[i + 1]!.at) - Date.parse(samples[i]!.at) > maxGap) break;
    runStart = i;
  }
  const latest = values.at(-1);
  const base = {
    signal: signal.signal,
    threshold: signal.threshold,
    unit: signal.unit,
    sustainedForMs: signal.sustainedForMs,
    source,
  };
  if (runStart >= 0) {
    const run = samples.slice(runStart);
    const runValues = values.slice(runStart) as number[];
    const covered = Date.parse(run.at(-1)!.at) - Date.parse(run[0]!.at) + interval;
    const shown = runValues.map((v) => format(v, signal.unit)).join(', ');
    const fired = covered >= signal.sustainedForMs;
    return {
      ...base,
      verdict: fired ? 'fired' : 'building',
      values: runValues,
      samples: run.length,
      summary: fired
        ? `${signal.label} above ${format(signal.threshold, signal.unit)} in every sample for ${formatDuration(signal.sustainedForMs)}: ${shown} (${run.length} samples, ${source})`
        : `${signal.label} above ${format(signal.threshold, signal.unit)} for ${formatDuration(covered)} of ${formatDuration(signal.sustainedForMs)}: ${shown} (${source})`,
    };
  }
  const window = values.slice(-Math.max(1, Math.ceil(signal.sustainedForMs / interval)));
  const conclusive = window.filter((v): v is number => v !== null);
  if (latest === null || latest === undefined) {
    const last = samples.at(-1);
    const why = (last && signal.problem(last)) ?? `fewer than ${min} requests in the sample`;
    return { ...base, verdict: 'inconclusive', values: window, samples: window.length, summary: `${signal.label}: no conclusive figure (${why}; ${source})` };
  }
  const worst = Math.max(...conclusive);
  return {
    ...base,
    verdict: 'clear',
    values: window,
    samples: window.length,
    summary: `${signal.label} ${atMost(worst, signal.unit)} ≤ ${format(signal.threshold, signal.unit)} over the last ${conclusive.length} conclusive sample(s) (${source})`,
  };
}

/**
 * Was there enough to judge? For each signal, the conclusive samples of the window must add up
 * to at least its sustainedFor — otherwise a sustained breach could have gone unseen, and the
 * window is inconclusive rather than a pass.
 */
export function inconclusiveSignals(samples: readonly MetricSample[], settings: ReleaseSettings, blueHasTraffic: boolean): string[] {
  const interval = settings.monitor.interval;
  const problems: string[] = [];
  for (const signal of metricSignals(settings, blueHasTraffic)) {
    const conclusive = samples.filter((s) => signal.value(s, settings.monitor.minRequests) !== null).length;
    if (conclusive * interval < signal.sustainedForMs) {
      const lastSample = samples.at(-1);
      const last = lastSample ? signal.problem(lastSample) : undefined;
      problems.push(
        `${signal.label}: ${conclusive} conclusive sample(s) cover ${formatDuration(conclusive * interval)}, less than ${formatDuration(signal.sustainedForMs)}${last ? ` (${last})` : ''}`,
      );
    }
  }
  return problems;
}
