import type { Command } from 'commander';

/** `sluice publish`: not built yet. */
export function register(_program: Command): void {}
