import type { Command } from 'commander';

/** `sluice explain`: not built yet. */
export function register(_program: Command): void {}
