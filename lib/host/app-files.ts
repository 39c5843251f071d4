/**
 * Reading a function app folder: `package.json` `main` (with globs, as the Node worker allows),
 * `host.json` and `local.settings.json`. No app code runs here.
 */
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';

export class AppFolderError extends Error {
  override name = 'AppFolderError';
}

async function readJsonFile(path: string, required: boolean): Promise<Record<string, any> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' && !required) return undefined;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new AppFolderError(`${path} does not exist; is --app the function app's folder?`);
    throw e;
  }
  try {
    // local.settings.json and host.json may start with a BOM when written by Windows tools.
    const value = JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw new Error('the top level must be a JSON object');
    return value as Record<string, any>;
  } catch (e) {
    throw new AppFolderError(`${path} is not valid JSON: ${(e as Error).message}`);
  }
}

export async function readHostJson(appDir: string): Promise<Record<string, any>> {
  return (await readJsonFile(join(appDir, 'host.json'), false)) ?? { version: '2.0' };
}

export interface LocalSettings {
  /** `Values`, as strings (the Functions host stringifies them too). */
  values: Record<string, string>;
  /** `Host.LocalHttpPort`: the port when none is given. */
  localHttpPort?: number;
  /** `Host.CORS`: allowed origins (`*` for any). */
  cors?: string[];
  /** `Host.CORSCredentials`. */
  corsCredentials?: boolean;
}

/** `local.settings.json`, as Core Tools reads it: `Values` and the `Host` section. */
export async function readLocalSettings(appDir: string): Promise<LocalSettings> {
  const path = join(appDir, 'local.settings.json');
  const file = await readJsonFile(path, false);
  const out: LocalSettings = { values: {} };
  const values = file?.Values;
  if (values !== undefined) {
    if (!values || typeof values !== 'object' || Array.isArray(values))
      throw new AppFolderError(`${path}: "Values" must be an object of settings.`);
    for (const [k, v] of Object.entries(values as Record<string, unknown>))
      if (v !== null && v !== undefined) out.values[k] = typeof v === 'string' ? v : String(v);
  }
  const host = file?.Host as Record<string, unknown> | undefined;
  if (host && typeof host === 'object') {
    if (host.LocalHttpPort !== undefined) {
      const port = Number(host.LocalHttpPort);
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new AppFolderError(
          `${path}: Host.LocalHttpPort must be a port number (got ${JSON.stringify(host.LocalHttpPort)}).`,
        );
      out.localHttpPort = port;
    }
    if (typeof host.CORS === 'string' && host.CORS.trim())
      out.cors = host.CORS.split(',')
        .map((o) => o.trim().replace(/\/+$/, ''))
        .filter(Boolean);
    if (host.CORSCredentials !== undefined)
      out.corsCredentials = host.CORSCredentials === true || host.CORSCredentials === 'true';
  }
  return out;
}

export interface AppPackage {
  name: string;
  /** The `main` pattern as written. */
  main: string;
  /** Absolute paths of the entry files: in the order of `{a,b}` alternatives, each one's matches sorted. */
  entryFiles: string[];
  /** True when the entry files are ES modules (`"type": "module"` or `.mjs`). */
  esm: boolean;
}

export async function readAppPackage(appDir: string): Promise<AppPackage> {
  const pkgPath = join(appDir, 'package.json');
  const pkg = (await readJsonFile(pkgPath, true))!;
  const main = typeof pkg.main === 'string' && pkg.main.trim() ? pkg.main.trim() : 'index.js';
  const entryFiles = await expandGlob(appDir, main);
  if (entryFiles.length === 0)
    throw new AppFolderError(
      `package.json "main" is "${main}" but no file in ${appDir} matches it; build the app first (e.g. npm run build), or fix "main".`,
    );
  return {
    name: typeof pkg.name === 'string' && pkg.name ? pkg.name : resolve(appDir).split(sep).pop()!,
    main,
    entryFiles,
    esm: pkg.type === 'module',
  };
}

/** Glob segments to a RegExp: `*` and `?` within a segment, `{a,b}` alternatives. */
function segmentRegExp(segment: string): RegExp {
  let re = '';
  for (let i = 0; i < segment.length; i++) {
    const c = segment[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '{') {
      const end = segment.indexOf('}', i);
      if (end < 0) re += '\\{';
      else {
        const alts = segment.slice(i + 1, end).split(',');
        re += '(?:' + alts.map((a) => a.replace(/[.+^$()|[\]\\*?]/g, '\\$&')).join('|') + ')';
        i = end;
      }
    } else re += c.replace(/[.+^$()|[\]\\{}]/g, '\\$&');
  }
  return new RegExp('^' + re + '$');
}

const isMagic = (s: string): boolean => /[*?{]/.test(s);

/**
 * `{a,b}` alternatives expanded into whole patterns first (nested braces too), so an alternative may
 * hold a `/`: `dist/src/{index.js,functions/*.js}`, the layout Microsoft documents for apps with
 * setup or hooks, is `dist/src/index.js` and `dist/src/functions/*.js`.
 */
export function expandBraces(pattern: string): string[] {
  const open = pattern.indexOf('{');
  if (open < 0) return [pattern];
  let depth = 0;
  const commas: number[] = [];
  for (let i = open; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '{') depth++;
    else if (c === '}' && --depth === 0) {
      if (commas.length === 0)
        return expandBraces(pattern.slice(i + 1)).map((rest) => pattern.slice(0, i + 1) + rest);
      const head = pattern.slice(0, open);
      const tail = pattern.slice(i + 1);
      const bounds = [open, ...commas, i];
      const out: string[] = [];
      for (let k = 0; k < bounds.length - 1; k++)
        out.push(...expandBraces(head + pattern.slice(bounds[k]! + 1, bounds[k + 1]) + tail));
      return out;
    } else if (c === ',' && depth === 1) commas.push(i);
  }
  return [pattern]; // an unclosed brace is a literal
}

/**
 * Expands `pattern` (relative to `baseDir`, `/`-separated, `*`, `?`, `**`, `{a,b}`) to absolute file
 * paths. Written on node:fs because the host needs nothing more and takes no dependency for it.
 */
export async function expandGlob(baseDir: string, pattern: string): Promise<string[]> {
  // Alternatives keep their order (the worker loads `index.js` of `{index.js,functions/*.js}` first, so
  // its app.setup and hooks come before the registrations); matches of one alternative are sorted.
  const found = await Promise.all(expandBraces(pattern).map((p) => expandOne(baseDir, p)));
  return [...new Set(found.flatMap((files) => files.sort()))];
}

async function expandOne(baseDir: string, pattern: string): Promise<string[]> {
  const segments = pattern
    .replace(/^\.\//, '')
    .split('/')
    .filter((s) => s !== '' && s !== '.');
  const results = new Set<string>();
  const walk = async (dir: string, i: number): Promise<void> => {
    if (i === segments.length) return;
    const seg = segments[i]!;
    const last = i === segments.length - 1;
    if (!isMagic(seg)) {
      const p = join(dir, seg);
      if (last) {
        try {
          const entries = await readdir(dir, { withFileTypes: true });
          if (entries.some((e) => e.name === seg && !e.isDirectory())) results.add(p);
        } catch {
          /* a missing folder matches nothing */
        }
      } else await walk(p, i + 1);
      return;
    }
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (seg === '**') {
      // `**` matches zero or more folders.
      await walk(dir, i + 1);
      for (const e of entries)
        if (e.isDirectory() && e.name !== 'node_modules' && !e.name.startsWith('.'))
          await walk(join(dir, e.name), i);
      return;
    }
    const re = segmentRegExp(seg);
    for (const e of entries) {
      if (!re.test(e.name)) continue;
      if (last) {
        if (!e.isDirectory()) results.add(join(dir, e.name));
      } else if (e.isDirectory()) await walk(join(dir, e.name), i + 1);
    }
  };
  await walk(resolve(baseDir), 0);
  return [...results];
}
