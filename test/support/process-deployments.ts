import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { ApiCaller } from './api-caller.ts';
import { waitFor } from './wait-for.ts';

/**
 * Reading a deployment from a bot run as a process (e2e-fixtures, routes-e2e), shared so that both
 * e2e setups wait the same way: unlike waitForStage, a failed call or a non-200 answer (the process
 * is restarting) is simply polled again, and a timeout shows the bot's output.
 */

/** The deployment `id`; throws unless the API answers 200. */
export async function showDeployment(api: ApiCaller, id: string): Promise<DeploymentView> {
  const shown = await api<DeploymentView>('GET', `/api/v1/deployments/${id}`);
  if (shown.status !== 200) throw new Error(`GET ${id} answered ${shown.status}: ${JSON.stringify(shown.body)}`);
  return shown.body;
}

/** Polls every 50 ms until the deployment is in one of `stages`; the error says where it is and ends with `output()`. */
export async function waitForProcessStage(api: ApiCaller, id: string, stages: Stage | Stage[], timeoutMs: number, output: () => string): Promise<DeploymentView> {
  const wanted = Array.isArray(stages) ? stages : [stages];
  let last: DeploymentView | undefined;
  await waitFor(
    async () => {
      try {
        const r = await api<DeploymentView>('GET', `/api/v1/deployments/${id}`);
        if (r.status !== 200) return false;
        last = r.body;
        return wanted.includes(r.body.stage);
      } catch {
        return false; // the process is restarting
      }
    },
    { timeoutMs, intervalMs: 50, describe: () => `${id} to reach ${wanted.join('|')}; it is ${last?.stage}: ${last?.reason}\nbot output:\n${output()}` },
  );
  return last!;
}
