// Tampering with a Helia node's blocks on disk, for audit tests: the auditor must notice, and the
// original bytes are put back afterwards so later tests see the untouched history.
import { readFile, writeFile } from "node:fs/promises";
import { blockFilePath, type CheckpointStore } from "../../aggregator/adapters/storage/checkpoint-store.js";

/** Runs `body` with the block file of `cid` changed by `edit`, then puts the original bytes back. */
export async function withBlock<T>(
  store: CheckpointStore,
  cid: string,
  edit: (file: string, bytes: Buffer) => Promise<void>,
  body: () => Promise<T>,
): Promise<T> {
  const file = blockFilePath(store, cid);
  const original = await readFile(file);
  await edit(file, Buffer.from(original));
  try {
    return await body();
  } finally {
    await writeFile(file, original);
  }
}
