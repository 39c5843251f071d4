import type { Command } from 'commander';

/** `sluice schedules`: not built yet. */
export function register(_program: Command): void {}
