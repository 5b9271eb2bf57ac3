// Where postfix's tools are on one host, derived from the resolved host context (../host.ts):
// postqueue, postcat, postsuper and postconf from the detected binary's directory, and `-c DIR`
// for a second instance (`config_directory`).
import { siblingTool, type MtaHost } from '../host.js';
import { sh, type Sh } from '../../transport/quote.js';

/** Short (hex) and long (enable_long_queue_ids) queue ids. */
export const POSTFIX_ID = /[0-9A-Za-z]{5,32}/;

export type PostfixTool = 'postqueue' | 'postcat' | 'postsuper' | 'postconf' | 'postfix';

/** A postfix tool, quoted, with `-c DIR` when the host names a configuration directory. */
export function postfixTool(h: MtaHost, tool: PostfixTool): Sh {
  const path = siblingTool(h, tool);
  return h.configDirectory ? sh`${path} -c ${h.configDirectory}` : sh`${path}`;
}

/**
 * The same as script settings (scripts/tool.sh runs them): MS_<TOOL> the path of each tool,
 * MS_CONFIG_DIR the configuration directory ('' for the default instance).
 */
export function postfixScriptTools(h: MtaHost, tools: readonly PostfixTool[]): Record<string, string> {
  const vars: Record<string, string> = { MS_CONFIG_DIR: h.configDirectory ?? '' };
  for (const t of tools) vars[`MS_${t.toUpperCase()}`] = siblingTool(h, t);
  return vars;
}
