/**
 * The one family of errors that reaches HTTP callers. Each maps to an RFC 7807 problem document
 * (`application/problem+json`). Field problems carry a JSON pointer (RFC 6901) into the request.
 */
export interface FieldProblem {
  /** JSON pointer to the offending field, e.g. `/steps/train/inputs/data`. `""` is the whole document. */
  pointer: string;
  /** What is wrong and, where possible, how to fix it. */
  message: string;
}

export type ProblemKind =
  | 'validation' // 400: the request is malformed or invalid; `errors` lists every problem
  | 'unauthorized' // 401: a key is required
  | 'not-found' // 404
  | 'method-not-allowed' // 405
  | 'conflict' // 409: the state of the resource forbids the request
  | 'precondition-failed' // 412
  | 'too-large' // 413
  | 'unsupported-media-type' // 415
  | 'not-implemented' // 501
  | 'unavailable' // 503: a dependency is down
  | 'internal'; // 500: a bug; the detail never carries secrets or stack traces

const STATUS: Record<ProblemKind, number> = {
  validation: 400,
  unauthorized: 401,
  'not-found': 404,
  'method-not-allowed': 405,
  conflict: 409,
  'precondition-failed': 412,
  'too-large': 413,
  'unsupported-media-type': 415,
  'not-implemented': 501,
  unavailable: 503,
  internal: 500,
};

const TITLE: Record<ProblemKind, string> = {
  validation: 'The request is not valid',
  unauthorized: 'A key is required',
  'not-found': 'Not found',
  'method-not-allowed': 'Method not allowed',
  conflict: 'Conflict',
  'precondition-failed': 'Precondition failed',
  'too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'not-implemented': 'Not implemented',
  unavailable: 'A dependency is unavailable',
  internal: 'Internal error',
};

/** RFC 7807's members and ours (`errors`): an extension named like one would change its meaning. */
const RESERVED = new Set(['type', 'title', 'status', 'detail', 'instance', 'errors']);

export interface ProblemDocument {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldProblem[];
  [extension: string]: unknown;
}

export class ProblemError extends Error {
  readonly kind: ProblemKind;
  readonly status: number;
  readonly errors: FieldProblem[] | undefined;
  readonly extensions: Record<string, unknown>;

  constructor(
    kind: ProblemKind,
    detail: string,
    errors?: FieldProblem[],
    extensions: Record<string, unknown> = {},
  ) {
    super(detail);
    this.name = 'ProblemError';
    this.kind = kind;
    this.status = STATUS[kind];
    this.errors = errors && errors.length > 0 ? errors : undefined;
    const reserved = Object.keys(extensions).filter((k) => RESERVED.has(k));
    if (reserved.length)
      throw new TypeError(
        `problem extensions may not use RFC 7807's own members (${reserved.join(', ')}); name them for what they are, e.g. runStatus`,
      );
    this.extensions = extensions;
  }

  toDocument(instance?: string): ProblemDocument {
    // Extensions come first: RFC 7807's own members (a numeric `status` above all) cannot be replaced.
    const doc: ProblemDocument = {
      ...this.extensions,
      type: `https://sluice.dev/problems/${this.kind}`,
      title: TITLE[this.kind],
      status: this.status,
      detail: this.message,
    };
    if (instance) doc.instance = instance;
    if (this.errors) doc.errors = this.errors;
    return doc;
  }
}

/** A 400 listing every field problem at once. */
export function invalid(errors: FieldProblem[], detail?: string): ProblemError {
  const summary =
    detail ??
    (errors.length === 1
      ? errors[0]!.message
      : `${errors.length} problems were found; each is listed in errors[].`);
  return new ProblemError('validation', summary, errors);
}

export function notFound(detail: string): ProblemError {
  return new ProblemError('not-found', detail);
}

export function conflict(detail: string, extensions?: Record<string, unknown>): ProblemError {
  return new ProblemError('conflict', detail, undefined, extensions);
}

/** Escapes one JSON pointer reference token (RFC 6901). */
export function pointerToken(token: string | number): string {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

/** Builds a JSON pointer from path segments: `pointer(['steps', 'a/b'])` → `/steps/a~1b`. */
export function pointer(path: ReadonlyArray<string | number>): string {
  return path.map((p) => '/' + pointerToken(p)).join('');
}
