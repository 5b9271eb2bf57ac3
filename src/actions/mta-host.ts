// The MTA context of the step's host: detection's binary and the inventory's MTA settings, resolved
// by the one resolver (src/mta/host.ts) so the incident builds the same commands as the scan.
import { mtaHost, type MtaHost } from '../mta/host.js';
import type { StepContext } from '../playbook/types.js';

export function mtaHostOf(ctx: Pick<StepContext, 'scope' | 'host'>): MtaHost {
  return mtaHost((ctx.scope.host as { binary?: string }).binary, ctx.host.vars);
}
