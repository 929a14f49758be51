import type { Split, VersionInfo } from './deployment.ts';

/** Two splits are the same traffic when every version has the same percent (absent = 0 is NOT the same as listed at 0). */
export function sameSplit(a: Split, b: Split): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => k in b && Math.abs((a[k] ?? 0) - (b[k] ?? 0)) < 0.01);
}

/** Same traffic, ignoring versions listed at 0 % (they serve nothing). */
export function sameTraffic(a: Split, b: Split): boolean {
  return sameSplit(withoutZeroes(a), withoutZeroes(b));
}

export function withoutZeroes(split: Split): Split {
  return Object.fromEntries(Object.entries(split).filter(([, p]) => p > 0));
}

/** The version with all traffic, if one has it. */
export function soleVersion(split: Split): string | undefined {
  const full = Object.entries(split).find(([, p]) => p >= 100);
  return full?.[0];
}

export function percentOf(split: Split, versionId: string): number {
  return split[versionId] ?? 0;
}

/** "v2.4.0 (abcd1234) 100 %, v2.3.9 (1234abcd) 0 %" — for reasons and refusals. */
export function describeSplit(split: Split, known: Array<VersionInfo | null | undefined> = []): string {
  const entries = Object.entries(split);
  if (entries.length === 0) return 'no deployment';
  return entries
    .sort(([, a], [, b]) => b - a)
    .map(([id, percent]) => {
      const info = known.find((v) => v?.id === id);
      const label = info?.tag ? `${info.tag} (${id.slice(0, 8)})` : id.slice(0, 8);
      return `${label} ${percent} %`;
    })
    .join(', ');
}
