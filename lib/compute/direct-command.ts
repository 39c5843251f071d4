/**
 * When a job's command needs no shell, the agent executes it directly (one exec less per job: no
 * `/bin/sh` to start, parse and wait on). Only plain words qualify: letters, digits and `_./:=,+@%-`,
 * separated by spaces. Anything a shell would interpret — quotes, `$`, globs, `~`, redirections,
 * pipes, `;`, `&`, `#`, backslashes, newlines, an assignment `X=1 cmd`, or a first word that is a shell
 * builtin or keyword — goes through `/bin/sh -c` as before. A program that cannot be executed
 * directly (not found, not executable) is retried through the shell by the agent, so its message and
 * exit code (127, 126) stay the shell's.
 */

const PLAIN = /^[A-Za-z0-9_./:=,+@%-]+( +[A-Za-z0-9_./:=,+@%-]+)*$/;

/** Builtins and keywords of a POSIX shell (and dash/bash extras) whose meaning a direct exec would change. */
const SHELL_WORDS = new Set(
  (
    '. : [ alias bg break builtin case cd command continue declare do done echo elif else esac eval exec ' +
    'exit export false fc fg fi for function getopts hash if in jobs kill let local logout printf pwd read ' +
    'readonly return select set shift source test then time times trap true type typeset ulimit umask ' +
    'unalias unset until wait while'
  ).split(' '),
);

/** The argv to execute directly, or undefined when the command needs `/bin/sh -c`. */
export function directArgv(command: string): string[] | undefined {
  const text = command.trim();
  if (!PLAIN.test(text)) return undefined;
  const argv = text.split(/ +/);
  const program = argv[0]!;
  if (program.includes('=')) return undefined;
  // `true`/`false` exist as programs that do what the builtins do, except with a `--help`/`--version`.
  if ((program === 'true' || program === 'false') && !argv.some((a) => a.startsWith('-'))) return argv;
  if (SHELL_WORDS.has(program)) return undefined;
  return argv;
}
