// An embedded, offline Helia node that stores, pins and reads checkpoint and update files (docs/protocol.md
// §7) under one directory.
import path from "node:path";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import type { NextToLast } from "blockstore-fs/sharding";
import type { FsDatastore } from "datastore-fs";
import { DsainError, ensureError, ErrorCode } from "../../errors.js";
import { checkpointCid, checkpointImportOptions, toCid } from "../../protocol/cid.js";
import { CODEC_DAG_PB, MULTIHASH_SHA2_256 } from "../../protocol/constants.js";

export interface OpenCheckpointStoreOptions {
  /** Holds `blocks/` (blockstore-fs) and `datastore/` (datastore-fs: pins, peer key); created if missing. */
  directory: string;
  /** Listen for libp2p connections on 127.0.0.1 (random port). Default false: no socket at all. */
  listen?: boolean;
  /** Upper bound on one `get`, so that a read can never hang. Default 30 s. */
  getTimeoutMs?: number;
}

/** Cancels one call; `get` also stops at `getTimeoutMs` on its own. */
export interface CallOptions {
  signal?: AbortSignal;
}

export interface CheckpointStore {
  readonly directory: string;
  /** libp2p peer id (12D3Koo…); kept in the datastore, so it survives a restart. */
  readonly peerId: string;
  /** Listening addresses with /p2p/<peerId>; empty unless opened with `listen: true`. */
  readonly multiaddrs: string[];
  /** Imports with the protocol's pinned UnixFS parameters (same CID as `checkpointCid`) and pins the root. */
  put(bytes: Uint8Array, options?: CallOptions): Promise<CID>;
  /** The whole file, from local blocks only; IPFS_NOT_FOUND if any block is missing. */
  get(cid: CID | string, options?: CallOptions): Promise<Uint8Array>;
  /** `get`, then re-derives the CID of the bytes; IPFS_INTEGRITY if they do not hash to `cid`. */
  getVerified(cid: CID | string, options?: CallOptions): Promise<Uint8Array>;
  /** True when every block of the file is local and every inner node decodes (leaves are not re-hashed). */
  has(cid: CID | string): Promise<boolean>;
  /** Whether `cid` is pinned here (every put pins its root; pins survive a restart). */
  isPinned(cid: CID | string): Promise<boolean>;
  stop(): Promise<void>;
}

// Where a store keeps its blocks, kept out of the public interface: only tests and demos need it.
const blockLayouts = new WeakMap<CheckpointStore, { root: string; sharding: NextToLast }>();

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}

export async function openCheckpointStore(options: OpenCheckpointStoreOptions): Promise<CheckpointStore> {
  const directory = path.resolve(options.directory);
  const getTimeoutMs = options.getTimeoutMs ?? 30_000;
  // The Helia/libp2p stack takes one to two seconds to import: load it only when a node is opened.
  const [
    { createHeliaLight },
    { withLibp2pLight },
    { unixfs },
    { FsBlockstore },
    { NextToLast },
    { FsDatastore: FsDatastoreImpl },
    { tcp },
    { noise },
    { yamux },
    { identify },
  ] = await Promise.all([
    import("helia"),
    import("@helia/libp2p"),
    import("@helia/unixfs"),
    import("blockstore-fs"),
    import("blockstore-fs/sharding"),
    import("datastore-fs"),
    import("@libp2p/tcp"),
    import("@chainsafe/libp2p-noise"),
    import("@chainsafe/libp2p-yamux"),
    import("@libp2p/identify"),
  ]);

  const blocks = { root: path.join(directory, "blocks"), sharding: new NextToLast() };
  // blockstore-fs's default layout, named here so that blockFilePath can find a block's file.
  const blockstore = new FsBlockstore(blocks.root, { shardingStrategy: blocks.sharding });
  // libp2p 3.3 rewrites its own peer record one second after its listeners close, that is after
  // stop() has returned; refusing writes once closed keeps that late write out of a directory the
  // caller may already have deleted or reopened (libp2p only logs the refusal).
  class ClosableFsDatastore extends FsDatastoreImpl {
    #closed = false;
    #assertOpen(): void {
      if (this.#closed) throw new DsainError(ErrorCode.IPFS_FAILURE, `the datastore in ${directory} is closed`);
    }
    override async put(...args: Parameters<FsDatastore["put"]>): Promise<Awaited<ReturnType<FsDatastore["put"]>>> {
      this.#assertOpen();
      return super.put(...args);
    }
    override async delete(...args: Parameters<FsDatastore["delete"]>): Promise<void> {
      this.#assertOpen();
      return super.delete(...args);
    }
    override async close(): Promise<void> {
      this.#closed = true;
      await super.close();
    }
  }
  const datastore = new ClosableFsDatastore(path.join(directory, "datastore"));
  let helia;
  try {
    await blockstore.open();
    await datastore.open();
    // createHeliaLight has no block brokers, routers or gateways, and this libp2p has no
    // bootstrap, discovery or DHT: nothing can dial out. The peer key is loaded from (or
    // created in) the datastore by @helia/libp2p, which is what keeps the peer id stable.
    helia = withLibp2pLight(createHeliaLight({ blockstore, datastore }), {
      addresses: { listen: options.listen === true ? ["/ip4/127.0.0.1/tcp/0"] : [] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: [],
      services: { identify: identify() },
    });
    await helia.start();
  } catch (error) {
    await helia?.stop().catch(() => undefined);
    await datastore.close();
    throw new DsainError(ErrorCode.IPFS_FAILURE, `could not start the IPFS node in ${directory}: ${ensureError(error).message}`, {
      cause: error,
    });
  }
  const node = helia;
  const fs = unixfs(node);
  let stopped = false;

  const ensureRunning = (): void => {
    if (stopped) throw new DsainError(ErrorCode.IPFS_FAILURE, `the IPFS node in ${directory} is stopped; open the store again`);
  };

  async function get(cidLike: CID | string, callOptions: CallOptions = {}): Promise<Uint8Array> {
    ensureRunning();
    const cid = toCid(cidLike);
    const signals = [AbortSignal.timeout(getTimeoutMs), ...(callOptions.signal ? [callOptions.signal] : [])];
    const chunks: Uint8Array[] = [];
    try {
      // offline: a missing block fails at once instead of waiting for a provider that cannot come.
      for await (const chunk of fs.cat(cid, { offline: true, signal: AbortSignal.any(signals) })) chunks.push(chunk);
    } catch (error) {
      const e = ensureError(error);
      if (e.name === "BlockNotFoundWhileOfflineError" || e.name === "NotFoundError") {
        throw new DsainError(
          ErrorCode.IPFS_NOT_FOUND,
          `${cid} is not (completely) in the local IPFS store ${directory}; put it there or fetch it from its publisher`,
          { cause: error },
        );
      }
      if (e.name === "TimeoutError" || e.name === "AbortError") {
        throw new DsainError(ErrorCode.IPFS_NOT_FOUND, `reading ${cid} from ${directory} did not finish (${e.message})`, {
          cause: error,
        });
      }
      throw new DsainError(ErrorCode.IPFS_FAILURE, `could not read ${cid} from ${directory}: ${e.message}`, { cause: error });
    }
    return concat(chunks);
  }

  // One block as stored on disk: Helia's blockstore hands local blocks back without re-hashing.
  async function readBlock(cid: CID): Promise<Uint8Array | undefined> {
    if (!(await node.blockstore.has(cid))) return undefined;
    const chunks: Uint8Array[] = [];
    for await (const chunk of node.blockstore.get(cid, { offline: true })) chunks.push(chunk);
    return concat(chunks);
  }

  async function children(cid: CID, bytes: Uint8Array): Promise<CID[]> {
    if (cid.code !== CODEC_DAG_PB) return [];
    const codec = await node.getCodec(cid.code);
    return (codec.decode(bytes) as { Links: { Hash: CID }[] }).Links.map((link) => link.Hash);
  }

  async function complete(cid: CID): Promise<boolean> {
    // Raw leaves only need to exist; inner nodes must be read to know their children.
    if (cid.code !== CODEC_DAG_PB) return node.blockstore.has(cid);
    const bytes = await readBlock(cid);
    if (bytes === undefined) return false;
    let links: CID[];
    try {
      links = await children(cid, bytes);
    } catch {
      return false;
    }
    for (const link of links) if (!(await complete(link))) return false;
    return true;
  }

  // After a read failed in a way other than "missing": the first block whose bytes do not hash to
  // its own CID, if there is one, turns a decoding error into the integrity failure it really is.
  async function findCorruptBlock(cid: CID): Promise<{ cid: CID; actual: CID } | undefined> {
    const bytes = await readBlock(cid);
    if (bytes === undefined) return undefined;
    if (cid.multihash.code !== MULTIHASH_SHA2_256) return undefined; // the only hash re-derived here
    const digest = await sha256.digest(bytes);
    if (!Buffer.from(digest.digest).equals(cid.multihash.digest)) return { cid, actual: CID.createV1(cid.code, digest) };
    for (const link of await children(cid, bytes)) {
      const corrupt = await findCorruptBlock(link);
      if (corrupt !== undefined) return corrupt;
    }
    return undefined;
  }

  const store: CheckpointStore = {
    directory,
    peerId: node.libp2p.peerId.toString(),
    get multiaddrs() {
      return stopped ? [] : node.libp2p.getMultiaddrs().map((ma) => ma.toString());
    },

    async put(bytes, putOptions = {}) {
      ensureRunning();
      try {
        const cid = await fs.addBytes(bytes, { ...(await checkpointImportOptions()), signal: putOptions.signal });
        // pins.add refuses a second pin of the same root, and putting the same bytes twice is normal.
        if (!(await node.pins.isPinned(cid))) {
          for await (const pinned of node.pins.add(cid, { signal: putOptions.signal })) void pinned;
        }
        return cid;
      } catch (error) {
        throw new DsainError(
          ErrorCode.IPFS_FAILURE,
          `could not store a ${bytes.length}-byte checkpoint in ${directory}: ${ensureError(error).message}`,
          { cause: error },
        );
      }
    },

    get,

    async getVerified(cidLike, callOptions) {
      const cid = toCid(cidLike);
      let bytes: Uint8Array;
      try {
        bytes = await get(cid, callOptions);
      } catch (error) {
        // A corrupt inner node makes the exporter fail to decode rather than return wrong bytes.
        const corrupt =
          error instanceof DsainError && error.code === ErrorCode.IPFS_FAILURE
            ? await findCorruptBlock(cid).catch(() => undefined)
            : undefined;
        if (corrupt === undefined) throw error;
        const which = corrupt.cid.equals(cid) ? `${cid}` : `block ${corrupt.cid} of ${cid}`;
        throw new DsainError(
          ErrorCode.IPFS_INTEGRITY,
          `the bytes read for ${which} hash to ${corrupt.actual}: the local copy is corrupt; delete the block file (or the store) and fetch the checkpoint again, since put() keeps blocks it already has`,
          { cause: error },
        );
      }
      // Helia does not re-hash blocks read from its own blockstore (see test/adapters/storage.test.ts): a
      // flipped bit on disk comes back as data. Re-deriving the root CID catches it.
      const actual = await checkpointCid(bytes);
      if (!actual.equals(cid.toV1())) {
        throw new DsainError(
          ErrorCode.IPFS_INTEGRITY,
          `the bytes read for ${cid} hash to ${actual}: the local copy is corrupt (or ${cid} was not imported with the protocol's UnixFS parameters); delete the block files (or the store) and fetch the checkpoint again, since put() keeps blocks it already has`,
        );
      }
      return bytes;
    },

    async has(cidLike) {
      ensureRunning();
      return complete(toCid(cidLike));
    },

    async isPinned(cidLike) {
      ensureRunning();
      return node.pins.isPinned(toCid(cidLike));
    },

    async stop() {
      if (stopped) return;
      stopped = true;
      await node.stop();
      await blockstore.close();
      await datastore.close();
    },
  };
  blockLayouts.set(store, blocks);
  return store;
}

/** Path of the file holding one block on disk (blockstore-fs layout), so tests and demos can corrupt it. */
export function blockFilePath(store: CheckpointStore, cid: CID | string): string {
  const blocks = blockLayouts.get(store);
  if (blocks === undefined) throw new DsainError(ErrorCode.INPUT_INVALID, "blockFilePath needs a store returned by openCheckpointStore");
  const { dir, file } = blocks.sharding.encode(toCid(cid));
  return path.join(blocks.root, dir, file);
}
