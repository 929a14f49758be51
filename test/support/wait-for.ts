import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Polls until the condition holds. The timeout only bounds a hung test; nothing asserts how long
 * anything took (speed is measured in bench/, not in tests).
 */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  options: { timeoutMs?: number; intervalMs?: number; describe?: () => string } = {},
): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 20_000);
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${options.describe?.() ?? 'a condition'}`);
    await sleep(options.intervalMs ?? 25);
  }
}
