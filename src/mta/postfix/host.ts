// Where postfix's tools are on one host, derived from the resolved host context (../host.ts):
// postqueue, postcat, postsuper and postconf from the detected binary's directory, and `-c DIR`
// for a second instance (`config_directory`).
import { siblingTool, type MtaHost } from '../host.js';
import { sh } from '../../transport/quote.js';

/** Short (hex) and long (enable_long_queue_ids) queue ids. */
export const POSTFIX_ID = /[0-9A-Za-z]{5,32}/;

/** A postfix tool, quoted, with `-c DIR` when the host names a configuration directory. */
export function postfixTool(h: MtaHost, tool: 'postqueue' | 'postcat' | 'postsuper' | 'postconf' | 'postfix'): string {
  const path = siblingTool(h, tool);
  return h.configDirectory ? sh`${path} -c ${h.configDirectory}` : sh`${path}`;
}
