#!/usr/bin/env node
// mailsweep command line: argv → command; the one top-level catch → exit codes.
import { CommanderError } from 'commander';
import { EXIT, isPromptAbort, MailsweepError } from './errors.js';
import { buildProgram } from './program.js';
import { printable } from './text/printable.js';

/** Error text can quote server output (stderr, ids, paths): shown, never interpreted by the terminal. */
const shown = (text: string) => printable(text, { multiline: true });

/** A failed file-system call: Node's system errors carry a code and the path they were about. */
function isFileError(e: unknown): e is Error & { code: string; path: string } {
  const x = e as { code?: unknown; path?: unknown };
  return e instanceof Error && typeof x.code === 'string' && typeof x.path === 'string' && /^E[A-Z]+$/.test(x.code);
}

async function main(): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version end here with 0; a usage error (unknown option, missing argument,
      // no command) is one line naming the fix, exit 3.
      if (e.exitCode !== 0 && e.code !== 'commander.help') {
        const cmd = process.argv.slice(2).find((a) => program.commands.some((c) => c.name() === a));
        process.stderr.write(
          `mailsweep: ${shown(e.message.replace(/^error: /, '').replace(/\s*\n\s*/g, ' '))} (see: mailsweep ${cmd ? `${cmd} ` : ''}--help)\n`,
        );
      }
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.unknown;
    } else if (e instanceof MailsweepError) {
      // Each kind carries its documented exit code (README: scan's and incident's tables). A host
      // that cannot be reached (TransportError) is not a bug: its status word, as in scan, then
      // the reason; scan never lets one through (its hosts end with a status).
      const line = e.headline();
      if (line) process.stderr.write(`mailsweep: ${shown(line)}\n`);
      process.exitCode = e.exitCode;
    } else if (isFileError(e)) {
      // A file the operator named (-o, --html, a state or history path) that cannot be written or
      // read is an ordinary failure, not a bug: the system's own words, exit 3.
      process.stderr.write(`mailsweep: error: ${shown(e.message)}\n`);
      process.exitCode = EXIT.unknown;
    } else if (isPromptAbort(e)) {
      process.stderr.write('mailsweep: aborted\n');
      process.exitCode = EXIT.aborted;
    } else {
      const err = e as Error;
      process.stderr.write(`mailsweep: internal error: ${shown(err?.message ?? String(e))}\n`);
      if (program.opts().verbose) process.stderr.write(`${err?.stack ?? ''}\n`);
      else process.stderr.write('(run with --verbose for details; please report this)\n');
      process.exitCode = EXIT.unknown;
    }
  }
}

await main();
