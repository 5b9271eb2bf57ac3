// Privilege escalation (Ansible's become): wrap a command in non-interactive sudo.
import { sh } from './quote.js';

export interface BecomeSpec {
  become: boolean;
  becomeUser: string;
  /** The user the connection logs in as. */
  user: string;
}

/** `sudo -n` never prompts: a host that needs a sudo password fails fast with a clear stderr. */
export function wrapBecome(cmd: string, spec: BecomeSpec): string {
  if (!spec.become || spec.user === spec.becomeUser) return cmd;
  return sh`sudo -n -H -u ${spec.becomeUser} -- /bin/sh -c ${cmd}`;
}
