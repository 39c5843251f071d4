/**
 * Preloaded (`node --require`) into the Azurite child process, which is third-party code: it makes
 * Azurite shut down when its parent dies, even by SIGKILL, by watching the IPC channel for EOF. Azurite
 * handles SIGTERM by closing its servers and saving its databases. It also marks the data folder as taken
 * (see dir-lock.ts) when `SLUICE_LOCK_DIR` is set.
 */
import { writeLock } from './dir-lock';

if (process.env.SLUICE_LOCK_DIR) writeLock(process.env.SLUICE_LOCK_DIR);

// Once the parent is gone our stdout/stderr pipes are broken; Azurite logs while it closes, and an
// EPIPE there would kill it before it saved its databases.
const ignore = (): void => {};
process.stdout.on('error', ignore);
process.stderr.on('error', ignore);

if (process.channel) {
  process.channel.unref();
  process.on('disconnect', () => {
    console.log = ignore;
    console.error = ignore;
    console.warn = ignore;
    console.info = ignore;
    process.kill(process.pid, 'SIGTERM');
    // Azurite exits on its own after closing; do not linger if it cannot.
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
