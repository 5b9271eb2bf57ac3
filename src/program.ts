// The mailsweep command line's shape: every command, option and help text (commander). Actions
// import their command module lazily, so `--help` stays fast; src/cli.ts runs it.
import { Command, InvalidArgumentError, Option, type OptionValues } from 'commander';
import { packageVersion } from './package-root.js';

const pkg = { version: packageVersion() };

/** What every command that connects to a fleet takes: parallelism, timeouts, host keys. */
function fleetOptions(cmd: Command): Command {
  return cmd
    .option('-f, --forks <n>', 'hosts scanned at once (default 50, or ansible.cfg forks / $ANSIBLE_FORKS)')
    .option('-t, --timeout <seconds>', "per-command timeout (not Ansible's -t: that is its --tags)", '30')
    .option(
      '-T, --connect-timeout <seconds>',
      "SSH connect + handshake timeout, as Ansible's -T (default: ansible.cfg timeout / $ANSIBLE_TIMEOUT, else min(timeout, 10))",
    )
    .option('--known-hosts <file>', 'known_hosts file (default ~/.ssh/known_hosts)')
    .option('--accept-new-hostkeys', 'record host keys seen for the first time (changed keys are still refused)');
}

const collect = (v: string, prev?: string[]): string[] => [...(prev ?? []), v];

/** How a command finds its hosts and logs in, with Ansible's flags (src/inventory/open.ts). */
function inventoryOptions(cmd: Command): Command {
  return cmd
    .option(
      '-i, --inventory <source>',
      'Ansible inventory: YAML/JSON/INI file, directory or "h1,h2," list; repeat to merge (default: $MAILSWEEP_INVENTORY, $ANSIBLE_INVENTORY, ./inventory.yaml, ansible.cfg)',
      collect,
    )
    .option('-u, --user <name>', 'SSH user where the inventory sets no ansible_user (as ansible -u)')
    .option('--private-key <file>', 'SSH key where the inventory sets no ansible_ssh_private_key_file')
    .option('-b, --become', 'sudo -n where the inventory sets no ansible_become')
    .option('--become-user <name>', 'sudo to this user where the inventory sets no ansible_become_user')
    .option(
      '--ssh-config <file>',
      'ssh client config for Host aliases, HostName, User, Port, IdentityFile, ProxyJump (default ~/.ssh/config; none)',
    );
}

/** Several -i: loaded together; one is also what suggested commands repeat. */
// `any`: commander's option values are untyped; each command's options interface types them.
function inventoryArgs(opts: OptionValues): any {
  const list = opts.inventory as string[] | undefined;
  return { ...opts, inventory: list?.length === 1 ? list[0] : undefined, inventorySources: list };
}

function formatOption(): Option {
  return new Option('--format <format>', 'table | json | markdown | nagios').default('table');
}

export function buildProgram(): Command {
  const program = new Command('mailsweep')
    .description('Find hijacked mail accounts across a fleet of sendmail, exim, postfix and qmail servers')
    .version(pkg.version)
    .option('--verbose', 'print stack traces of internal errors')
    // A usage error is one line and exit 3 (unknown), as a Nagios plugin's must be: commander
    // throws instead of exiting (src/cli.ts says it), and every subcommand inherits this.
    .exitOverride()
    .configureOutput({ outputError: () => {} });

  inventoryOptions(fleetOptions(program.command('scan')))
    .description('scan every host in the inventory in parallel; exit 0 ok, 1 warning, 2 critical, 3 unknown')
    .option('-l, --limit <pattern>', "host pattern: names, groups, globs, 'a:b', '!excluded', '&both', '~regex', @file")
    .option('--list-hosts', 'print the hosts that would be scanned, one per line, and exit (as ansible --list-hosts)')
    .option('--vars', "with --list-hosts: each host's resolved connection and vars as JSON (secrets redacted)")
    .addOption(formatOption())
    .option('-w, --warning <size>', "every host's queue warning threshold (over queue_warn): alert above N; N, ~:N or 0:N")
    .option('-c, --critical <size>', "every host's queue critical threshold (over queue_crit): alert above N; N, ~:N or 0:N")
    .option('--deadline <duration>', 'answer by then; hosts not done are UNKNOWN (default 50s with --format nagios, else none)')
    .option('--perfdata <which>', 'nagios: per-host perfdata, all | worst:N (default worst:10); fleet totals always')
    .option('--messages', 'include every queued message in JSON output')
    .option('--problems', 'list only hosts that are not OK (table, markdown, JSON hosts); the summary keeps fleet totals')
    .option('--since <when>', 'log window start: today (default, server time), yesterday, 24h, 7d, 2026-11-20')
    .option('--no-attribution', 'queue counts only: no spool/log attribution, no account rules')
    .option(
      '--history <file>',
      'SQLite file of daily per-account counts for the baseline rule (default ~/.local/state/mailsweep/history.sqlite, $MAILSWEEP_HISTORY)',
    )
    .option('--no-history', 'do not read or write the history (baseline then treats every account as new)')
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--no-progress', 'plain lines instead of the live progress view')
    .option('--shard <K/N>', 'scan only shard K of N of the selected hosts (by a hash of the name; $MAILSWEEP_SHARD)')
    .action(async (opts, cmd: Command) => {
      const { scanCommand } = await import('./commands/scan.js');
      const verbose = cmd.optsWithGlobals().verbose === true;
      const r = await scanCommand({ ...inventoryArgs(opts), verbose, progress: opts.progress === false ? false : undefined });
      process.exitCode = r.code;
      // Hosts cut by the deadline may still hold sockets and timers: the check answers now, as promised.
      if (r.exitNow) process.exit(r.code);
    });

  program
    .command('merge')
    .description("combine scan reports (--format json: one sweep's shards, or several datacenters) into one fleet report; exit as scan")
    .argument('<file...>', 'scan reports (JSON); - for stdin')
    .addOption(formatOption())
    .option('-o, --output <file>', 'write the report to a file instead of stdout')
    .option('--partial', "merge even when some of a sharded sweep's shards are missing (exit then at least 3)")
    .action(async (files: string[], opts) => {
      const { runMerge } = await import('./commands/merge.js');
      process.exitCode = await runMerge(files, opts);
    });

  inventoryOptions(fleetOptions(program.command('report')))
    .description(
      'scheduled run (cron, systemd timer): scan, track incidents, notify channels; silent when nothing is new; exit 0 none open, 1 warning, 2 critical, 3 could not run',
    )
    .option('-l, --limit <pattern>', 'host pattern (as for scan)')
    .option('--list-hosts', 'print the hosts the run would scan, one per line, and exit')
    .option('--vars', "with --list-hosts: each host's resolved connection and vars as JSON (secrets redacted)")
    .option('--since <when>', 'log window start (as for scan; default today)')
    .option(
      '--config <file>',
      'report config: repeat_interval, send_resolved, channels, auto_contain (default $MAILSWEEP_REPORT_CONFIG; none: notices go to stdout)',
    )
    .option(
      '--state <file|url>',
      'report state: a SQLite file (default ~/.local/state/mailsweep/report.sqlite, $MAILSWEEP_REPORT_STATE) or postgres://user@host:port/db shared by several controllers',
    )
    .option(
      '--sweep <id>',
      'with a postgres:// state: the sweep this shard belongs to ($MAILSWEEP_SWEEP; default the UTC hour, e.g. 2026-11-30T11Z)',
    )
    .option('--finish-sweep <id>', 'postgres:// state, no scan: decide and send a sweep now with the shards that recorded (one died)')
    .option('--runs-dir <dir>', "auto_contain: the containment runs' journals (default: auto_contain.runs_dir, then as for contain)")
    .option('--no-auto-contain', "this run: the config's auto_contain only alerts, contains nothing")
    .option('--shard <K/N>', 'scan only shard K of N of the selected hosts ($MAILSWEEP_SHARD; JOB_COMPLETION_INDEX + MAILSWEEP_SHARDS)')
    .option('--from-scan <file...>', 'no scan: alert on these scan reports (JSON; shards are merged as by `mailsweep merge`)')
    .option('--keep <duration>', 'forget runs, resolved incidents and sent notices older than this (default 90d)')
    .option('--deadline <duration>', 'the run ends by then; hosts not done are reported unfinished (default 55m)')
    .option('--wait', 'if another run holds the lock, wait for it (up to the deadline) instead of exiting 3')
    .option('--test-channel <name>', 'send a test notice through one channel of --config and exit')
    .option('--html <file>', 'also write the self-contained HTML report to this file after each run')
    .option('--html-days <n>', 'days the HTML report charts cover (default 14)')
    .option('--prometheus <file>', 'after the run, write a node_exporter textfile (queue sizes, open incidents, sends today) atomically')
    .option('--digest <period>', 'print the digest of a period from --state and exit (no scan): daily | weekly')
    .option('--day <day>', 'digest: last day of the period, YYYY-MM-DD | today | yesterday (UTC; default yesterday)')
    .option('--format <format>', 'digest: text (default) | markdown | json | csv')
    .option('--table <name>', 'digest as csv: one table on stdout: problems | accounts | hosts | qshape')
    .option('-o, --output <path>', 'digest: write to this file (csv without --table: a directory, one file per table)')
    .option('--top <n>', 'digest: rows per table in text and markdown (default 50)')
    .option('--mail <channel>', 'digest: send it through this smtp channel of --config instead of printing it')
    .option('--no-attribution', 'queue counts only: no spool/log attribution, no account rules')
    .option('--history <file>', 'baseline history SQLite file (as for scan); with a postgres:// state the database holds it (refused)')
    .option('--no-history', 'do not read or write the baseline history')
    .addOption(new Option('--now <iso-time>', 'tests only: the run clock ($MAILSWEEP_NOW)').hideHelp())
    .action(async (opts) => {
      const { runReport } = await import('./commands/report.js');
      const r = await runReport(inventoryArgs(opts));
      process.exitCode = r.code;
      // Scans cut by --deadline may still hold sockets open: the run ends now, as promised.
      if (r.unfinished.length) process.exit(r.code);
    });

  program
    .command('html')
    .description(
      'write the self-contained HTML report (incidents, hosts, queue and per-account charts) from what `report` recorded; no scan',
    )
    .option('-o, --output <file>', 'the HTML file (default: stdout)')
    .option('--state <file|url>', 'report state written by `mailsweep report`: SQLite file or postgres:// URL (default as for report)')
    .option(
      '--history <file>',
      'baseline history SQLite file (as for scan); with a postgres:// state the page reads the database (refused)',
    )
    .option('--no-history', 'leave out the per-account charts')
    .option('--days <n>', 'days the charts cover (default 14)')
    .option('-i, --inventory <file>', 'inventory to name in the suggested commands')
    .addOption(new Option('--now <iso-time>', 'tests only: the page clock ($MAILSWEEP_NOW)').hideHelp())
    .action(async (opts) => {
      const { runHtml } = await import('./commands/html.js');
      process.exitCode = await runHtml(opts, {
        stdout: (t) => void process.stdout.write(t),
        stderr: (t) => void process.stderr.write(t),
        env: process.env,
      });
    });

  program
    .command('history')
    .description('per-day trend from the report state (sends, queue, findings) for the fleet, one host or one account')
    .argument('[subject]', 'a host name or an account (auth id); none: the whole fleet')
    .option('--state <file|url>', 'report state: SQLite file or postgres:// URL (as for report)')
    .option('--days <n>', 'days to show, ending today (default 14)')
    .option('--format <format>', 'table (default) | json')
    .addOption(new Option('--now <iso-time>', 'tests only: the clock ($MAILSWEEP_NOW)').hideHelp())
    .action(async (subject, opts) => {
      const { runHistory } = await import('./commands/history.js');
      process.exitCode = await runHistory(subject, opts);
    });

  program
    .command('demo')
    .description('start a built-in fleet of fake mail servers on loopback (replaying real MTA output) and scan it')
    .addOption(formatOption())
    .option('--keep', 'keep the demo fleet running after the scan (Ctrl-C to stop)')
    .option('--dir <dir>', 'where to write the demo inventory, keys and known_hosts')
    .option('--incident', 'rehearse a whole incident on the hijacked demo host (fake WHM and SMTP sink on loopback)')
    .action(async (opts, cmd: Command) => {
      if (opts.incident) {
        // The rehearsal prints its own plain text: a --format asked for would be silently ignored.
        if (cmd.getOptionValueSource('format') === 'cli')
          throw new InvalidArgumentError('--format is for the plain demo (a scan); --incident prints plain text');
        const { runDemoIncident } = await import('./commands/demo-incident.js');
        process.exitCode = await runDemoIncident(opts);
        return;
      }
      const { runDemo } = await import('./commands/demo.js');
      process.exitCode = await runDemo(opts);
    });

  inventoryOptions(program.command('incident'))
    .description('walk through the hijacked-account playbook on one host: identify, reset, restart, purge, notify')
    .argument('<host>', 'inventory host name (or a pattern matching exactly one host)')
    .option('--playbook <file>', 'playbook YAML (default: playbooks/hijacked-account.yaml)')
    .option('--auth-id <id>', 'the hijacked account, when already known (required with --yes unless --answers gives it)')
    .option('--dry-run', 'print every command and API call it would make; change nothing')
    .option(
      '-y, --yes',
      'unattended: go ahead with every planned step; a safety question (safe answer "no") stops the run unless a flag or --answers says yes',
    )
    .option('--force-account', 'act on --auth-id even when no rule points at it (otherwise the run stops before anything changes)')
    .option('--answers <file>', 'YAML/JSON answers keyed by question (identify.account, confirm.purge, notify.customer_email, …)')
    .option('--resume <run-id>', 'continue a killed or failed run without repeating its done steps')
    .option('--hold', 'quarantine the spam for review instead of deleting it')
    .option('--skip <steps>', 'comma-separated steps to skip (e.g. reset,notify)')
    .option('--set <name=value...>', 'playbook vars (e.g. --set suspend_outgoing=true)')
    .option('--known-hosts <file>', 'known_hosts file (default ~/.ssh/known_hosts)')
    .option('--accept-new-hostkeys', 'record the host key if it is seen for the first time')
    .option('--runs-dir <dir>', 'where run journals go (default ~/.local/state/mailsweep/runs, $MAILSWEEP_RUNS_DIR)')
    .option('-t, --timeout <seconds>', 'per-command timeout', '120')
    .action(async (host, opts) => {
      const { runIncident } = await import('./commands/incident.js');
      process.exitCode = await runIncident(host, inventoryArgs(opts));
    });

  inventoryOptions(program.command('contain'))
    .description(
      'stop an account at once, reversibly: hold or suspend its outgoing mail, suspend its logins, end its IMAP/POP sessions; each journaled with its undo',
    )
    .argument('<host>', 'inventory host name (or a pattern matching exactly one host)')
    .option('--auth-id <id>', 'the account (mailbox) to contain')
    .option('--hold', 'hold its outgoing mail in the queue (released, not lost, by `release`)')
    .option('--suspend-outgoing', 'reject its outgoing mail')
    .option('--suspend-login', 'refuse its logins (mail still arrives)')
    .option('--kick', 'end its open IMAP/POP sessions (doveadm kick, when dovecot is on the host)')
    .option('--whole-account', 'cPanel: hold / suspend outgoing mail of the whole cPanel account that owns the domain')
    .option('--dry-run', 'show every call and command it would make; change nothing')
    .option('-y, --yes', 'unattended: containing the account named is the plan, so it is done without asking')
    .option('--resume <run-id>', 'finish a killed or failed contain run')
    .option('--known-hosts <file>', 'known_hosts file (default ~/.ssh/known_hosts)')
    .option('--accept-new-hostkeys', 'record the host key if it is seen for the first time')
    .option('--runs-dir <dir>', 'where run journals go (default ~/.local/state/mailsweep/runs, $MAILSWEEP_RUNS_DIR)')
    .option('-t, --timeout <seconds>', 'per-command timeout', '60')
    .action(async (host, opts) => {
      const { runContain } = await import('./commands/contain.js');
      process.exitCode = await runContain(host, inventoryArgs(opts));
    });

  inventoryOptions(program.command('release'))
    .description('undo what the latest (or the named) contain run put in place for an account, never what was in place before it')
    .argument('<host>', 'inventory host name (or a pattern matching exactly one host)')
    .option('--auth-id <id>', 'the account (mailbox) to release')
    .option('--run <run-id>', 'the contain run to undo (default: the latest for this account on this host)')
    .option('--force', 'also lift measures whose state before the contain run could not be read')
    .option('--dry-run', 'show every call and command it would make; change nothing')
    .option('-y, --yes', 'unattended: releasing what the contain run did is the plan')
    .option('--resume <run-id>', 'finish a killed or failed release run')
    .option('--known-hosts <file>', 'known_hosts file (default ~/.ssh/known_hosts)')
    .option('--accept-new-hostkeys', 'record the host key if it is seen for the first time')
    .option('--runs-dir <dir>', 'where run journals are (default ~/.local/state/mailsweep/runs, $MAILSWEEP_RUNS_DIR)')
    .option('-t, --timeout <seconds>', 'per-command timeout', '60')
    .action(async (host, opts) => {
      const { runRelease } = await import('./commands/contain.js');
      process.exitCode = await runRelease(host, inventoryArgs(opts));
    });

  program
    .command('parse')
    .description('run the parsers on a saved queue listing or log (FILE, FILE.gz or - for stdin) and print JSON')
    .argument('[file]', 'input file; - or none for stdin')
    .requiredOption('--mta <mta>', 'exim | postfix | sendmail | qmail')
    .requiredOption('--kind <kind>', 'queue (exim -bp, postqueue -j/-p, mailq, qmail-qread/qstat) | log (mainlog, maillog, qmail logs)')
    .option('--year <year>', 'year of the first line of a syslog-format log (default: the current year, as the date allows)')
    .action(async (file, opts) => {
      const { runParse } = await import('./commands/parse.js');
      process.exitCode = await runParse(file, opts);
    });

  return program;
}
