/**
 * What this machine can build environments with: its platform, the Python interpreters on PATH (by
 * version), Node, and whether `uv` is there. Probed once per process; agents report it (see
 * capabilities in README) and the builder picks an interpreter from it.
 */
import { execFile } from 'node:child_process';
import { realpath } from 'node:fs/promises';
import { promisify } from 'node:util';
import { satisfies } from './spec';

const run = promisify(execFile);

export interface PythonInterpreter {
  /** The command as found on PATH (`python3.11`). */
  command: string;
  /** Its resolved path. */
  path: string;
  /** `3.11.7` */
  version: string;
}

export interface Capabilities {
  /** `linux-x64` */
  platform: string;
  pythons: PythonInterpreter[];
  /** `v20.20.2` of the `node` on PATH, or null. */
  node: string | null;
  /** `uv 0.13.9`, or null when only venv + pip can build. */
  uv: string | null;
}

export const platformName = (): string => `${process.platform}-${process.arch}`;

async function version(cmd: string, args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run(cmd, args, { timeout: 10_000 });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

let probed: Promise<Capabilities> | undefined;

/**
 * The interpreters named `python3` and `python3.N` on PATH (deduplicated by real path), plus the ones
 * in setting `SLUICE_PYTHONS` (colon-separated paths), highest version first.
 */
export function capabilities(refresh = false): Promise<Capabilities> {
  if (!probed || refresh) probed = probe();
  return probed;
}

async function probe(): Promise<Capabilities> {
  const names = ['python3', ...Array.from({ length: 9 }, (_, i) => `python3.${i + 8}`)];
  const extra = (process.env.SLUICE_PYTHONS ?? '').split(':').filter(Boolean);
  const found = await Promise.all(
    [...extra, ...names].map(async (command) => {
      const out = await version(command, [
        '-c',
        'import sys; print(sys.executable); print(sys.version.split()[0])',
      ]);
      if (!out) return undefined;
      const [exe, v] = out.split('\n');
      const path = await realpath(exe!).catch(() => exe!);
      return { command, path, version: v!.trim() };
    }),
  );
  const byPath = new Map<string, PythonInterpreter>();
  for (const p of found) if (p && !byPath.has(p.path)) byPath.set(p.path, p);
  const pythons = [...byPath.values()].sort((a, b) =>
    b.version.localeCompare(a.version, undefined, { numeric: true }),
  );
  const [node, uv] = await Promise.all([version('node', ['--version']), version('uv', ['--version'])]);
  return { platform: platformName(), pythons, node, uv: uv ? uv.split(' (')[0]! : null };
}

/** The highest interpreter satisfying `constraint` (`python3` first when there is none). */
export function pickPython(
  caps: Capabilities,
  constraint: string | undefined,
): PythonInterpreter | undefined {
  if (!constraint) return caps.pythons.find((p) => p.command === 'python3') ?? caps.pythons[0];
  return caps.pythons.find((p) => satisfies(p.version, constraint));
}

/** Why a machine with these capabilities cannot build a spec, or undefined when it can. */
export function unsatisfiable(
  caps: Pick<Capabilities, 'pythons' | 'node'>,
  need: { python?: string; node?: string; npm?: string; wantsPython: boolean },
): string | undefined {
  if (need.wantsPython) {
    if (caps.pythons.length === 0) return 'it has no Python interpreter (python3) on PATH';
    if (need.python && !caps.pythons.some((p) => satisfies(p.version, need.python!)))
      return `it has Python ${caps.pythons.map((p) => p.version).join(', ')}, none of which satisfies "${need.python}"`;
  }
  if (need.node || need.npm) {
    if (!caps.node) return 'it has no node on PATH';
    if (need.node && !satisfies(caps.node, need.node))
      return `its Node is ${caps.node}, which does not satisfy "${need.node}"`;
  }
  return undefined;
}
