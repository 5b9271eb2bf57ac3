// Misspelled inventory keys: an unknown key one or two edits from a known one is almost surely a
// typo (quue_crit, ansible_hots) that would otherwise be silently ignored. Other unknown keys stay
// allowed: inventories carry every Ansible var of the playbooks they also serve.
import { editDistance } from '../text/suggest.js';

/** Keys mailsweep reads outside vars.ts' validated set (src/actions/integrations.ts, notify.ts, …). */
export const MAILSWEEP_KEYS = [
  'cpanel_url',
  'cpanel_user',
  'cpanel_token_env',
  'cpanel_token_file',
  'cpanel_ca_file',
  'cpanel_insecure',
  'whmcs_url',
  'whmcs_identifier_env',
  'whmcs_identifier_file',
  'whmcs_secret_env',
  'whmcs_secret_file',
  'whmcs_accesskey_env',
  'whmcs_accesskey_file',
  'whmcs_ca_file',
  'whmcs_template',
  'whmcs_client_id',
  'whmcs_dept_id',
  'notify_smtp_host',
  'notify_smtp_port',
  'notify_smtp_secure',
  'notify_smtp_user',
  'notify_smtp_pass_env',
  'notify_smtp_pass_file',
  'notify_smtp_ca_file',
  'notify_from',
  'notify_to',
  'notify_template',
  'password_reset_command',
  'contain_commands',
];

/** Ansible's own connection and behavioural inventory vars (docs: "Connecting to hosts: behavioral inventory parameters"). */
export const ANSIBLE_KEYS = [
  'ansible_host',
  'ansible_port',
  'ansible_user',
  'ansible_password',
  'ansible_connection',
  'ansible_ssh_host',
  'ansible_ssh_port',
  'ansible_ssh_user',
  'ansible_ssh_pass',
  'ansible_ssh_private_key_file',
  'ansible_private_key_file',
  'ansible_ssh_common_args',
  'ansible_ssh_extra_args',
  'ansible_sftp_extra_args',
  'ansible_scp_extra_args',
  'ansible_ssh_args',
  'ansible_ssh_pipelining',
  'ansible_pipelining',
  'ansible_ssh_executable',
  'ansible_ssh_timeout',
  'ansible_timeout',
  'ansible_ssh_retries',
  'ansible_host_key_checking',
  'ansible_ssh_host_key_checking',
  'ansible_become',
  'ansible_become_method',
  'ansible_become_user',
  'ansible_become_password',
  'ansible_become_pass',
  'ansible_become_exe',
  'ansible_become_flags',
  'ansible_sudo',
  'ansible_sudo_user',
  'ansible_sudo_pass',
  'ansible_su',
  'ansible_su_user',
  'ansible_su_pass',
  'ansible_shell_type',
  'ansible_shell_executable',
  'ansible_python_interpreter',
  'ansible_remote_tmp',
  'ansible_group_priority',
  'ansible_network_os',
  'ansible_play_hosts',
  'ansible_facts',
  'ansible_check_mode',
  'ansible_limit',
];

// Families of Ansible vars whose members differ by a letter or two among themselves.
const ANSIBLE_FAMILIES =
  /^ansible_(?:\w+_interpreter|winrm_\w+|httpapi_\w+|netconf_\w+|paramiko_\w+|docker_\w+|kubectl_\w+|psrp_\w+|libssh_\w+|network_\w+|ssh_\w+_args)$/;

/**
 * The known key `key` is probably a misspelling of, or undefined. Keys of 10 characters or more
 * allow two edits, shorter ones one; a known name under 5 characters (mta) only a swap of letters,
 * so network vars such as mtu stay allowed. Case differences count as typos.
 */
export function likelyTypo(key: string, known: Iterable<string>): string | undefined {
  const all = [...known];
  if (all.includes(key) || ANSIBLE_FAMILIES.test(key) || key.length <= 2) return undefined;
  const k = key.toLowerCase();
  const max = k.length >= 10 ? 2 : 1;
  const anagram = (a: string, b: string): boolean => [...a].sort().join('') === [...b].sort().join('');
  let best: { name: string; d: number } | undefined;
  for (const name of all) {
    const d = name === k ? 1 : editDistance(k, name, max);
    if (d > max || (name.length < 5 && !anagram(k, name))) continue;
    if (!best || d < best.d) best = { name, d };
  }
  return best?.name;
}
