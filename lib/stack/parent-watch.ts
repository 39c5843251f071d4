/**
 * Preloaded (`node --require`) into the Azurite child process, which is third-party code: it makes
 * Azurite shut down when its parent dies, even by SIGKILL, by watching the IPC channel for EOF. Azurite
 * handles SIGTERM by closing its servers and saving its databases. It also marks the data folder as taken
 * (see dir-lock.ts) when `SLUICE_LOCK_DIR` is set.
 */
import { writeLock } from './dir-lock';

if (process.env.SLUICE_LOCK_DIR) writeLock(process.env.SLUICE_LOCK_DIR);

if (process.channel) {
  process.channel.unref();
  process.on('disconnect', () => {
    process.kill(process.pid, 'SIGTERM');
    // Azurite exits on its own after closing; do not linger if it cannot.
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
