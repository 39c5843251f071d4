/**
 * `DurableError`: why the engine refused a client operation (no such instance, a conflicting start, an
 * instance that takes no more events, bad input, storage down). The kind decides the HTTP status, in
 * one place (api-io.ts `toProblem`); the message is shown to the client as it is.
 */
export class DurableError extends Error {
  constructor(
    readonly kind: 'not-found' | 'conflict' | 'gone' | 'invalid' | 'unavailable',
    message: string,
  ) {
    super(message);
  }
}
