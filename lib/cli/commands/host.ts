import type { Command } from 'commander';

/** `sluice host`: not built yet. */
export function register(_program: Command): void {}
