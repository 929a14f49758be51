import type { DeploymentView } from '../../src/domain/deployment-view.ts';
import type { Stage } from '../../src/domain/stages.ts';
import type { ApiCaller } from './api-caller.ts';
import { waitFor } from './wait-for.ts';

/** Polls the API until the deployment is in one of `stages`; the error says where it is instead. */
export async function waitForStage(api: ApiCaller, id: string, stages: Stage | Stage[], timeoutMs = 20_000): Promise<DeploymentView> {
  const wanted = Array.isArray(stages) ? stages : [stages];
  let last: DeploymentView | undefined;
  await waitFor(
    async () => {
      const r = await api<DeploymentView>('GET', `/api/v1/deployments/${id}`);
      last = r.body;
      return wanted.includes(r.body.stage);
    },
    { timeoutMs, describe: () => `${id} to reach ${wanted.join('|')}; it is ${last?.stage}: ${last?.reason}` },
  );
  return last!;
}
