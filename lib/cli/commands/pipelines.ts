import type { Command } from 'commander';

/** `sluice pipelines`: not built yet. */
export function register(_program: Command): void {}
