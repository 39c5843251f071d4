import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SETTINGS } from '../../../lib/config/settings';

const ROOT = join(__dirname, '..', '..', '..', '..');

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

test('every environment setting the code reads is documented in the settings catalogue', () => {
  const read = new Set<string>();
  for (const file of [...sources(join(ROOT, 'lib')), ...sources(join(ROOT, 'functions'))]) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /process\.env\.([A-Za-z_][A-Za-z0-9_]*)|process\.env\[['"]([A-Za-z_][A-Za-z0-9_]*)['"]\]/g,
    ))
      read.add(m[1] ?? m[2]!);
    for (const m of text.matchAll(/\benv\.((?:SLUICE|COSMOS|WEBSITE)_[A-Z0-9_]+|AzureWebJobsStorage)\b/g))
      read.add(m[1]!);
  }
  const documented = new Set(SETTINGS.map((s) => s.name));
  const ignored = new Set(['NODE_ENV', 'CI', 'HOME', 'PATH', 'SHELL', 'TMPDIR']);
  const missing = [...read].filter((n) => !documented.has(n) && !ignored.has(n)).sort();
  assert.deepEqual(missing, [], `add these to SETTINGS in lib/config/settings.ts: ${missing.join(', ')}`);
});

test('local.settings.example.json lists every documented setting', () => {
  const example = JSON.parse(readFileSync(join(ROOT, 'local.settings.example.json'), 'utf8')) as {
    Values: Record<string, string>;
  };
  const skip = new Set(['SLUICE_MANUAL_CLOCK', 'WEBSITE_HOSTNAME', 'SLUICE_AGENT_TRACE']);
  const missing = SETTINGS.map((s) => s.name).filter((n) => !(n in example.Values) && !skip.has(n));
  assert.deepEqual(missing, []);
});

test('the README documents every setting', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const missing = SETTINGS.map((s) => s.name).filter((n) => !readme.includes('`' + n + '`'));
  assert.deepEqual(missing, [], 'add these to the README configuration table');
});
