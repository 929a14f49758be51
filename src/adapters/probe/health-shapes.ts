import { z } from 'zod';

/**
 * The health endpoints' JSON, as the seed strategy defines them. Extra fields are allowed (apps
 * grow); the named ones must be there with the right types, or green is not proven healthy.
 * `versionId` is optional: when an app reports the version it runs, it must be the one deployed.
 */
const status = z.enum(['healthy', 'degraded', 'unhealthy']);

export const basicHealthSchema = z.looseObject({
  status,
  timestamp: z.string(),
  versionId: z.string().optional(),
});

export const detailedHealthSchema = z.looseObject({
  status,
  checks: z.looseObject({
    database: z.boolean(),
    cache: z.boolean(),
    email: z.boolean(),
    staticAssets: z.boolean(),
    kevinContent: z.boolean(),
  }),
  performance: z.looseObject({
    responseTime: z.number(),
    memoryUsage: z.number(),
    cpuUsage: z.number(),
  }),
  cultural: z.looseObject({
    kevinBrandingPresent: z.boolean(),
    inquirySystemFunctional: z.boolean(),
    communityDataAccurate: z.boolean(),
  }),
  versionId: z.string().optional(),
});

export type BasicHealth = z.infer<typeof basicHealthSchema>;
export type DetailedHealth = z.infer<typeof detailedHealthSchema>;

/** "checks.email, cultural.kevinBrandingPresent" — the flags that are not true. */
export function falseFlags(health: DetailedHealth): string[] {
  const flags: string[] = [];
  for (const [key, value] of Object.entries(health.checks)) if (value === false) flags.push(`checks.${key}`);
  for (const [key, value] of Object.entries(health.cultural)) if (value === false) flags.push(`cultural.${key}`);
  return flags;
}
