import type { ReleaseSettings } from './release-settings.ts';

/** Canary steps as percentages on green, ending at 100; blue-green is the single step [100]. */
export function stepsOf(settings: Pick<ReleaseSettings, 'strategy'>): number[] {
  if (settings.strategy.type !== 'canary') return [100];
  const steps = [...settings.strategy.steps];
  return steps.at(-1) === 100 ? steps : [...steps, 100];
}
