import type { Command } from 'commander';

/** `sluice run`: not built yet. */
export function register(_program: Command): void {}
