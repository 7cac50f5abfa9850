// An embedded Helia node that stores, pins and reads checkpoint and update files (docs/protocol.md
// §7) under one directory. Offline by default; with `network` it joins the peers it is given (and
// only those: no bootstrap, DHT, mDNS or delegated routing), fetches missing files from them over
// bitswap, and carries topic messages between daemons (gossipsub, ./pubsub.ts).
import path from "node:path";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import type { PeerId } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import type { NextToLast } from "blockstore-fs/sharding";
import type { FsDatastore } from "datastore-fs";
import { DsainError, ensureError, ErrorCode } from "../../errors.js";
import { checkpointCid, checkpointImportOptions, toCid } from "../../protocol/cid.js";
import { CODEC_DAG_PB, MULTIHASH_SHA2_256 } from "../../protocol/constants.js";
import { MAX_MESSAGE_BYTES, topicChannel, type TopicChannel } from "./pubsub.js";

export interface OpenCheckpointStoreOptions {
  /** Holds `blocks/` (blockstore-fs) and `datastore/` (datastore-fs: pins, peer key); created if missing. */
  directory: string;
  /**
   * Listen for libp2p connections: `true` is 127.0.0.1 on a random port, a string is one TCP
   * multiaddr (`/ip4/127.0.0.1/tcp/4101`). Default: no socket at all, unless `network` is given,
   * which listens on 127.0.0.1 on a random port.
   */
  listen?: boolean | string;
  /** Upper bound on one `get` or `fetch`, so that a read can never hang. Default 30 s. */
  getTimeoutMs?: number;
  /** Join a network of explicitly listed peers: bitswap for content, gossipsub for topic messages. */
  network?: NetworkOptions;
}

export interface NetworkOptions {
  /** Multiaddrs with the peer id (`/ip4/127.0.0.1/tcp/4101/p2p/12D3Koo…`), dialled at start and redialled while down. */
  peers?: string[];
  /** How often a peer that is not connected is dialled again. Default 1 s. */
  redialMs?: number;
  /** Called when a peer sends something the node refuses (an oversized message); the node keeps running. */
  onRefused?: (reason: string) => void;
}

export interface FetchOptions extends CallOptions {
  /** Refuse a file larger than this (its declared size, then the bytes actually received). */
  maxBytes: number;
  /** Overrides the store's `getTimeoutMs` for this call. */
  timeoutMs?: number;
}

export interface PeerStatus {
  address: string;
  peerId: string;
  connected: boolean;
  /** Why the last dial failed, while the peer is not connected. */
  lastError?: string;
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
  /**
   * The whole file, from local blocks or else from connected peers over bitswap (offline stores:
   * local only); checks the declared and the received size against `maxBytes` (CONTENT_TOO_LARGE),
   * re-derives the CID of the bytes (IPFS_INTEGRITY) and pins the file. PEER_UNAVAILABLE
   * (retryable) when no peer delivered it in time.
   */
  fetch(cid: CID | string, options: FetchOptions): Promise<Uint8Array>;
  /** Connects to one peer now (PEER_UNAVAILABLE, retryable, if it cannot be reached). Network stores only. */
  dial(address: string, options?: CallOptions): Promise<void>;
  /** The configured peers and whether each is connected now. */
  peers(): PeerStatus[];
  /** How many distinct peers are connected now, configured or not (those that dialled this node included). */
  connectedPeerCount(): number;
  /** Topic messages (gossipsub); undefined for an offline store. */
  readonly topics: TopicChannel | undefined;
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

const MISSING_CONTENT_ERRORS = new Set([
  "TimeoutError",
  "AbortError",
  "BlockNotFoundWhileOfflineError",
  "NotFoundError",
  "LoadBlockFailedError",
]);

interface NetworkModules {
  multiaddr: (address: string) => Multiaddr;
  peerIdFromString: (id: string) => PeerId;
  gossipsub: typeof import("@libp2p/gossipsub").gossipsub;
  withBitswap: typeof import("@helia/bitswap").withBitswap;
}

async function loadNetworkModules(): Promise<NetworkModules> {
  const [{ multiaddr }, { peerIdFromString }, { gossipsub }, { withBitswap }] = await Promise.all([
    import("@multiformats/multiaddr"),
    import("@libp2p/peer-id"),
    import("@libp2p/gossipsub"),
    import("@helia/bitswap"),
  ]);
  return { multiaddr, peerIdFromString, gossipsub, withBitswap };
}

interface PeerAddress {
  address: string;
  target: Multiaddr;
  peer: PeerId;
}

function parsePeerAddress(net: NetworkModules, address: string): PeerAddress {
  let target: Multiaddr;
  try {
    target = net.multiaddr(address);
  } catch {
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `peer address "${address}" is not a multiaddr (expected /ip4/<host>/tcp/<port>/p2p/<peer id>)`,
    );
  }
  const id = target.getComponents().find((c) => c.name === "p2p")?.value;
  if (id === undefined) {
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `peer address "${address}" has no /p2p/<peer id>: without it the node cannot check whom it reached`,
    );
  }
  let peer: PeerId;
  try {
    peer = net.peerIdFromString(id);
  } catch {
    throw new DsainError(ErrorCode.CONFIG_INVALID, `peer address "${address}" names "${id}", which is not a libp2p peer id`);
  }
  return { address, target, peer };
}

function parseListenAddress(address: string): string {
  if (!/^\/ip[46]\/[^/]+\/tcp\/\d{1,5}$/.test(address)) {
    throw new DsainError(ErrorCode.CONFIG_INVALID, `listen address "${address}" is not a TCP multiaddr like /ip4/127.0.0.1/tcp/4101`);
  }
  return address;
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
  const network = options.network;
  const net = network === undefined ? undefined : await loadNetworkModules();
  const peerAddresses = net === undefined ? [] : (network?.peers ?? []).map((address) => parsePeerAddress(net, address));
  const listen =
    options.listen === true || (options.listen === undefined && network !== undefined)
      ? ["/ip4/127.0.0.1/tcp/0"]
      : typeof options.listen === "string"
        ? [parseListenAddress(options.listen)]
        : [];

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
    const light = withLibp2pLight(createHeliaLight({ blockstore, datastore }), {
      addresses: { listen },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      peerDiscovery: [],
      services: {
        identify: identify(),
        // Present only on a network store: an offline node answers no topic at all.
        ...(net === undefined
          ? {}
          : { pubsub: net.gossipsub({ allowPublishToZeroTopicPeers: true, maxInboundDataLength: MAX_MESSAGE_BYTES + 64 * 1024 }) }),
      },
    });
    // Bitswap is the only block broker: it asks connected peers, and there is no router to find others.
    helia = net === undefined ? light : net.withBitswap(light);
    await helia.start();
  } catch (error) {
    await helia?.stop().catch(() => undefined);
    await datastore.close();
    if (/EADDRINUSE/.test(ensureError(error).message)) {
      throw new DsainError(
        ErrorCode.CONFIG_INVALID,
        `the listen address ${listen.join(", ")} is already in use (another node on that port?); pick another one, or /tcp/0 for a free port`,
        { cause: error },
      );
    }
    throw new DsainError(ErrorCode.IPFS_FAILURE, `could not start the IPFS node in ${directory}: ${ensureError(error).message}`, {
      cause: error,
    });
  }
  const node = helia;
  const fs = unixfs(node);
  let stopped = false;
  const pubsub = (node.libp2p.services as { pubsub?: import("@libp2p/gossipsub").GossipSub }).pubsub;
  const topics =
    pubsub === undefined
      ? undefined
      : topicChannel(pubsub, (from, topic, bytes) =>
          network?.onRefused?.(`peer ${from} sent a ${bytes}-byte message on ${topic}, above the ${MAX_MESSAGE_BYTES}-byte limit`),
        );

  // Configured peers are dialled at once and then again, every redialMs, while not connected:
  // a restarted peer comes back on its own (libp2p's keep-alive reconnect gives up after 5 tries).
  const dialState = new Map(peerAddresses.map((p) => [p.address, { ...p, lastError: undefined as string | undefined, dialling: false }]));
  async function dialPeer(address: string, target: Multiaddr, signal?: AbortSignal): Promise<void> {
    try {
      await node.libp2p.dial(target, { signal: AbortSignal.any([AbortSignal.timeout(10_000), ...(signal ? [signal] : [])]) });
    } catch (error) {
      throw new DsainError(ErrorCode.PEER_UNAVAILABLE, `could not connect to peer ${address}: ${ensureError(error).message}`, {
        cause: error,
      });
    }
  }
  const redial = (): void => {
    for (const peer of dialState.values()) {
      if (stopped || peer.dialling || node.libp2p.getConnections(peer.peer).length > 0) continue;
      peer.dialling = true;
      dialPeer(peer.address, peer.target)
        .then(() => (peer.lastError = undefined))
        .catch((error: unknown) => (peer.lastError = ensureError(error).message))
        .finally(() => (peer.dialling = false));
    }
  };
  redial();
  const redialTimer = dialState.size === 0 ? undefined : setInterval(redial, network?.redialMs ?? 1000);
  redialTimer?.unref();

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

    async fetch(cidLike, fetchOptions) {
      ensureRunning();
      const cid = toCid(cidLike);
      const { maxBytes } = fetchOptions;
      const timeoutMs = fetchOptions.timeoutMs ?? getTimeoutMs;
      const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(fetchOptions.signal ? [fetchOptions.signal] : [])]);
      const tooLarge = (bytes: bigint | number, what: string): DsainError =>
        new DsainError(ErrorCode.CONTENT_TOO_LARGE, `${cid} ${what} ${bytes} bytes, above the ${maxBytes}-byte limit for this file`);
      const unavailable = (error: unknown): DsainError =>
        net === undefined
          ? new DsainError(ErrorCode.IPFS_NOT_FOUND, `${cid} is not (completely) in the local IPFS store ${directory}, which is offline`, {
              cause: error,
            })
          : new DsainError(
              ErrorCode.PEER_UNAVAILABLE,
              `no connected peer (${node.libp2p.getConnections().length} connected) sent all of ${cid} within ${timeoutMs} ms`,
              { cause: error },
            );
      const chunks: Uint8Array[] = [];
      try {
        // The root block alone declares the file's size: refuse before asking for the rest.
        const stat = await fs.stat(cid, { signal, offline: net === undefined });
        if (stat.size > BigInt(maxBytes)) throw tooLarge(stat.size, "declares");
        let received = 0;
        for await (const chunk of fs.cat(cid, { signal, offline: net === undefined })) {
          received += chunk.length;
          // A root that understates its size is caught here, before memory is spent on the excess.
          if (received > maxBytes) throw tooLarge(received, "sent at least");
          chunks.push(chunk);
        }
      } catch (error) {
        if (error instanceof DsainError) throw error;
        if (fetchOptions.signal?.aborted === true) throw error;
        // Timed out, or every block broker gave up (Helia's LoadBlockFailedError), or offline and missing.
        if (signal.aborted || MISSING_CONTENT_ERRORS.has(ensureError(error).name)) throw unavailable(error);
        throw new DsainError(ErrorCode.CHECKPOINT_MALFORMED, `${cid} is not a UnixFS file: ${ensureError(error).message}`, {
          cause: error,
        });
      }
      const bytes = concat(chunks);
      // Bitswap checks each block it receives; re-deriving the root also catches a local block corrupted on disk.
      const actual = await checkpointCid(bytes);
      if (!actual.equals(cid.toV1())) {
        throw new DsainError(
          ErrorCode.IPFS_INTEGRITY,
          `the bytes of ${cid} hash to ${actual} with the protocol's UnixFS parameters: a corrupt local block or a file not imported as docs/protocol.md §7 says`,
        );
      }
      if (!(await node.pins.isPinned(cid))) {
        for await (const pinned of node.pins.add(cid, { signal: fetchOptions.signal })) void pinned;
      }
      return bytes;
    },

    async dial(address, callOptions = {}) {
      ensureRunning();
      if (net === undefined)
        throw new DsainError(ErrorCode.INPUT_INVALID, `the IPFS node in ${directory} is offline: open it with network to dial peers`);
      const peer = parsePeerAddress(net, address);
      await dialPeer(peer.address, peer.target, callOptions.signal);
    },

    peers() {
      return [...dialState.values()].map((p) => ({
        address: p.address,
        peerId: p.peer.toString(),
        connected: !stopped && node.libp2p.getConnections(p.peer).length > 0,
        ...(p.lastError === undefined ? {} : { lastError: p.lastError }),
      }));
    },

    connectedPeerCount() {
      return stopped ? 0 : new Set(node.libp2p.getConnections().map((c) => c.remotePeer.toString())).size;
    },

    topics,

    async stop() {
      if (stopped) return;
      stopped = true;
      if (redialTimer !== undefined) clearInterval(redialTimer);
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
