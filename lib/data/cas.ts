/**
 * The content-addressed store: Blob container `artifacts`, one blob per distinct content, named
 * `sha256/<hex>`. Directory manifests are blobs too (metadata `sluicekind=manifest`). Only Blob storage
 * is used, so remote agents that can reach nothing but the storage account can store and fetch.
 *
 * This module is the store's API and holds no code of its own: everything outside the `cas-*.ts`
 * modules imports the store from here, and those modules never import it. Its parts:
 * - `cas-blobs.ts`: the container, blob names, existence, and the refresh that reuse relies on;
 * - `cas-hashing.ts`: addresses of local files and directories, without storing them;
 * - `cas-upload.ts`: writing streams, files, directories and manifests, never sending stored content;
 * - `cas-read.ts`: hash-verified reads, downloads and `materialize`.
 */
export {
  ARTIFACTS_CONTAINER,
  REFRESH_AFTER_MS,
  TMP_PREFIX,
  artifactType,
  blobName,
  exists,
  reuseIfStored,
  type ArtifactType,
} from './cas-blobs';
export { hashDirectory, hashFile } from './cas-hashing';
export {
  BLOCK_SIZE,
  clearHashCache,
  putDirectory,
  putFile,
  putManifest,
  putStream,
  type PutDirectoryResult,
  type PutResult,
} from './cas-upload';
export { VerifyingStream, fileInDirectory, materialize, openFile, readManifest, readSmall } from './cas-read';
