/** Running installers: no shell, output streamed line by line, the last lines kept for the message. */
import { spawn } from 'node:child_process';

/** The last lines of a build's output, for the failure message. */
export class Tail {
  private buf: string[] = [];
  push(line: string): void {
    this.buf.push(line);
    if (this.buf.length > 200) this.buf.shift();
  }
  lines(): string[] {
    return this.buf;
  }
}

/** Runs a program (no shell), streaming its output line by line; resolves with stdout. */
export function exec(
  cmd: string,
  args: string[],
  onLine: (line: string) => void,
  cwd?: string,
  signal?: AbortSignal,
): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      ...(signal ? { signal, killSignal: 'SIGKILL' as const } : {}),
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PIP_NO_INPUT: '1', UV_NO_PROGRESS: '1', NO_COLOR: '1' },
    });
    let stdout = '';
    const lines = (stream: NodeJS.ReadableStream, keep: boolean): void => {
      let rest = '';
      stream.on('data', (b: Buffer) => {
        const s = b.toString();
        if (keep) stdout += s;
        const parts = (rest + s).split('\n');
        rest = parts.pop()!;
        for (const l of parts) if (l.trim()) onLine(l.replace(/\r/g, ''));
      });
      stream.on('end', () => {
        if (rest.trim()) onLine(rest);
      });
    };
    lines(child.stdout!, true);
    lines(child.stderr!, false);
    child.on('error', (e) => reject(new Error(`${cmd} could not be started: ${e.message}`)));
    child.on('close', (code, signal) =>
      code === 0
        ? resolvePromise(stdout)
        : reject(new Error(`${cmd} ${args[0] ?? ''} exited with ${code ?? signal}`)),
    );
  });
}
