import type { Command } from 'commander';

/** `sluice datasets`: not built yet. */
export function register(_program: Command): void {}
