/**
 * Stable endpoints for the embedded stack. Agents and CLIs are given the stack's connection settings
 * once; if a restart moved the services to new ports they would knock on closed doors forever. So the
 * ports the first start got are remembered in `<dataDir>/ports.json` and asked for again by every later
 * start on that folder. A setting (`SLUICE_BLOB_PORT`, …) chooses a port instead; `0` picks a free one
 * (and remembers it). A port that is now taken is an error naming the setting that moves it.
 */
import fs from 'node:fs';
import path from 'node:path';

export type StackService = 'blob' | 'queue' | 'table' | 'cosmos';
export type StackPorts = Record<StackService, number>;

export const STACK_SERVICES: readonly StackService[] = ['blob', 'queue', 'table', 'cosmos'];

/** The setting that chooses each service's port. */
export const PORT_SETTINGS: Record<StackService, string> = {
  blob: 'SLUICE_BLOB_PORT',
  queue: 'SLUICE_QUEUE_PORT',
  table: 'SLUICE_TABLE_PORT',
  cosmos: 'SLUICE_COSMOS_PORT',
};

const LABELS: Record<StackService, string> = {
  blob: 'the storage emulator’s Blob service',
  queue: 'the storage emulator’s Queue service',
  table: 'the storage emulator’s Table service',
  cosmos: 'the Cosmos DB server',
};

export const PORTS_FILE = 'ports.json';

/** Where a port came from: decides what the "port taken" error tells the user. */
export type PortSource = 'setting' | 'remembered' | 'free';

export interface PortChoice {
  /** The port to ask for; 0 lets the system pick a free one. */
  port: number;
  source: PortSource;
}

/** Port settings present in `env`; a value that is not a port is an error naming its setting. */
export function portSettings(env: NodeJS.ProcessEnv): Partial<StackPorts> {
  const out: Partial<StackPorts> = {};
  const problems: string[] = [];
  for (const s of STACK_SERVICES) {
    const raw = env[PORT_SETTINGS[s]]?.trim();
    if (!raw) continue;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n > 65535)
      problems.push(
        `${PORT_SETTINGS[s]} must be a TCP port (1-65535, or 0 to pick a free one), not "${raw}"`,
      );
    else out[s] = n;
  }
  if (problems.length) throw new Error(`${problems.join('; ')}.`);
  return out;
}

/** The ports remembered for a data folder (none when it was never started, or the file is unreadable). */
export function rememberedPorts(dataDir: string): Partial<StackPorts> {
  try {
    const raw = JSON.parse(fs.readFileSync(path.join(dataDir, PORTS_FILE), 'utf8')) as Record<
      string,
      unknown
    >;
    const out: Partial<StackPorts> = {};
    for (const s of STACK_SERVICES) {
      const n = raw[s];
      if (typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 65535) out[s] = n;
    }
    return out;
  } catch {
    return {};
  }
}

/** Settings win; then what this folder had; else a free port. */
export function choosePorts(
  settings: Partial<StackPorts>,
  remembered: Partial<StackPorts>,
): Record<StackService, PortChoice> {
  const out = {} as Record<StackService, PortChoice>;
  for (const s of STACK_SERVICES) {
    if (settings[s] !== undefined) out[s] = { port: settings[s]!, source: settings[s] ? 'setting' : 'free' };
    else if (remembered[s]) out[s] = { port: remembered[s]!, source: 'remembered' };
    else out[s] = { port: 0, source: 'free' };
  }
  return out;
}

/** Records the ports the stack listens on, for the next start on this folder. */
export function rememberPorts(dataDir: string, ports: Partial<StackPorts>): void {
  const file = path.join(dataDir, PORTS_FILE);
  const merged = { ...rememberedPorts(dataDir), ...ports };
  fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(merged, null, 2)}\n`);
  fs.renameSync(`${file}.tmp`, file);
}

/** A child could not listen on the port it was given (`EADDRINUSE`); the stack explains it to the user. */
export class PortTakenError extends Error {
  constructor(
    readonly service: StackService,
    readonly port: number,
    message: string,
  ) {
    super(message);
  }
}

/** A service could not listen on the port it was given: says why it wanted that port and how to move it. */
export class PortInUseError extends Error {
  readonly code = 'port-in-use';
  constructor(
    readonly service: StackService,
    readonly port: number,
    readonly source: PortSource,
    dataDir: string | undefined,
  ) {
    const setting = PORT_SETTINGS[service];
    const why =
      source === 'remembered'
        ? ` It is the port this data folder used before (remembered in ${path.join(dataDir ?? '.', PORTS_FILE)}), ` +
          'kept so that agents and CLIs started against this Sluice reach it again after a restart.'
        : source === 'setting'
          ? ` It was chosen by the setting ${setting}.`
          : '';
    super(
      `Port ${port} for ${LABELS[service]} is in use by another process.${why} Stop that process, or set ` +
        `${setting} to another port (0 picks a free one; agents started against the old port then need the new ` +
        'connection settings).',
    );
    this.name = 'PortInUseError';
  }
}
