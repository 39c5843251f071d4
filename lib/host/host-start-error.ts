/**
 * The one error a failed host start throws: its message says what to change (a setting, a route, a
 * port). The start undoes what it did before it throws.
 */
export class HostStartError extends Error {
  override name = 'HostStartError';
}
