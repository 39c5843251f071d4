import type { Command } from 'commander';

/** `sluice start`: not built yet. */
export function register(_program: Command): void {}
