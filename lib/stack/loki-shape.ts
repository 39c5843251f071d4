/**
 * The parts of LokiJS 1.5 (the copy in Azurite's dependency tree) that the Azurite journal reads and
 * hooks, as types. They describe the package's internals; `verifyLokiShape` (loki-journal.ts) checks at
 * start that the methods exist.
 */
import type { Doc } from './loki-journal-format';
import { GEN_FIELD } from './loki-journal-format';

export interface LokiCollection {
  name: string;
  data: Doc[];
  idIndex: number[] | null;
  maxId: number;
  dirty: boolean;
  constraints: { unique: Record<string, unknown> };
  ensureId(): void;
  ensureAllIndexes(force?: boolean): void;
  clear(options?: unknown): void;
}

export interface LokiDb {
  filename: string;
  collections: LokiCollection[];
  serialize(): string;
  getCollection(name: string): LokiCollection | null;
  addCollection(name: string, options?: unknown): LokiCollection;
  removeCollection(name: string): void;
  renameCollection(oldName: string, newName: string): LokiCollection | null;
  [GEN_FIELD]?: number;
}

/** The `lokijs` module: the `Loki` constructor with `Loki.Collection`. */
export interface LokiModule {
  prototype: Record<string, any>;
  Collection: { prototype: Record<string, any> };
}
