import { describe, expect, it } from 'vitest';
import { runCli } from '../support/bot-process.ts';

/**
 * `npm run demo` (`kevin-deploy sandbox demo`): a fresh sandbox in a temp directory on free ports,
 * a good release, a release rolled back automatically, a manual rollback — each step checked by
 * the demo itself, which exits non-zero if any did not happen. It runs the compiled dist/.
 */
describe('kevin-deploy sandbox demo', { timeout: 300_000 }, () => {
  it('tells the three acts and exits 0, leaving nothing running', async () => {
    const r = await runCli(['sandbox', 'demo'], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' });
    const run = `exit ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
    expect(r.code, run).toBe(0);
    expect(r.stdout).toContain('v2 succeeded');
    expect(r.stdout).toContain('rolled back automatically');
    expect(r.stdout).toContain('manual rollback done');
    expect(r.stdout).toContain('the demo went as scripted');
    // The acts come in order.
    const at = (text: string) => r.stdout.indexOf(text);
    expect(at('v2 succeeded')).toBeLessThan(at('rolled back automatically'));
    expect(at('rolled back automatically')).toBeLessThan(at('manual rollback done'));
    expect(at('manual rollback done')).toBeLessThan(at('the demo went as scripted'));

    // The demo stopped the bot and the edge it started: nothing answers on their ports any more.
    const ports = /\(bot :(\d+), edge :(\d+)\)/.exec(r.stdout);
    expect(ports, run).not.toBeNull();
    await expect(fetch(`http://127.0.0.1:${ports![1]}/healthz`)).rejects.toThrow();
    await expect(fetch(`http://127.0.0.1:${ports![2]}/`)).rejects.toThrow();
  });
});
