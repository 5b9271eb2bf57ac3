// The host the playbook tests run their steps on: this machine, through LocalTransport.
import type { HostSpec } from '../../src/inventory/types.js';
import type { MtaName } from '../../src/mta/types.js';

export function localHost(name: string, mta: MtaName = 'exim'): HostSpec {
  return {
    name,
    address: '127.0.0.1',
    port: 22,
    user: 'root',
    connection: 'local',
    become: false,
    becomeUser: 'root',
    mta,
    queueWarn: 75,
    queueCrit: 100,
    groups: ['all'],
    vars: {},
    source: { file: 'inv.yaml', line: 1 },
  };
}
