import { z } from 'zod';
import { durationOf } from '../src/config/duration.ts';
import { deploymentIdArg, environmentArg, serviceArg, textArg, versionArg } from './argument-shapes.ts';

/**
 * What a command's argument schema is built from: zod and the shared argument shapes. A command
 * declares its schema as a function of this kit, and the kit is imported only when a schema is
 * first needed (the server validating a request, a chat line, a test) — so the CLI, which only
 * sends a command's arguments over HTTP, starts without loading zod.
 */
export const argumentKit = { z, serviceArg, environmentArg, versionArg, deploymentIdArg, textArg, durationOf } as const;

export type ArgumentKit = typeof argumentKit;
