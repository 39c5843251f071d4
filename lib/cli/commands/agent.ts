import type { Command } from 'commander';

/** `sluice agent`: not built yet. */
export function register(_program: Command): void {}
