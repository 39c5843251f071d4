import type { Command } from 'commander';

/** `sluice runs`: not built yet. */
export function register(_program: Command): void {}
