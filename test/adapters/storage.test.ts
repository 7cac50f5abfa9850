// Checkpoint CIDs and the embedded offline IPFS store: round trips, persistence, refusals, corruption, no network.
import { expect } from "chai";
import { createHash, randomBytes } from "node:crypto";
import dgram from "node:dgram";
import { mkdtemp, readdir, readFile, rm, unlink, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { sha512 } from "multiformats/hashes/sha2";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { blockFilePath, openCheckpointStore, type CheckpointStore } from "../../aggregator/adapters/storage/checkpoint-store.js";
import { checkpointCid, cidFromOnchain, cidToOnchain } from "../../aggregator/protocol/cid.js";
import { CODEC_DAG_PB, CODEC_RAW, UNIXFS_CHUNK_BYTES, UNIXFS_MAX_CHILDREN } from "../../aggregator/protocol/constants.js";

const MB = 1 << 20;

async function expectRejects(promise: Promise<unknown>, code: string, message?: RegExp): Promise<DsainError> {
  try {
    await promise;
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    expect((e as DsainError).code).to.equal(code);
    if (message) expect((e as DsainError).message).to.match(message);
    return e as DsainError;
  }
  return expect.fail(`expected a DsainError with code ${code}`);
}

function expectThrows(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    expect((e as DsainError).code).to.equal(code);
    if (message) expect((e as DsainError).message).to.match(message);
    return;
  }
  expect.fail(`expected a DsainError with code ${code}`);
}

function sha256Hex(bytes: Uint8Array): string {
  return `0x${createHash("sha256").update(bytes).digest("hex")}`;
}

/** CID of the first leaf block of a stored checkpoint, found without decoding dag-pb. */
async function firstLeaf(store: CheckpointStore, root: CID): Promise<CID> {
  // Every child of a checkpoint root is a raw leaf while the file has at most UNIXFS_MAX_CHILDREN
  // chunks; the first leaf's CID is the raw CID of the first chunk, which the test can compute.
  const bytes = await store.get(root);
  return checkpointCid(bytes.subarray(0, UNIXFS_CHUNK_BYTES));
}

describe("checkpoint CIDs (aggregator/protocol/cid.ts)", function () {
  describe("checkpointCid", function () {
    it("should give a raw CID whose digest is the sha2-256 of the bytes for a file of at most one chunk", async function () {
      for (const size of [0, 1, 1000, UNIXFS_CHUNK_BYTES]) {
        const bytes = randomBytes(size);
        const cid = await checkpointCid(bytes);
        expect(cid.version).to.equal(1);
        expect(cid.code).to.equal(CODEC_RAW);
        expect(cidToOnchain(cid).digest).to.equal(sha256Hex(bytes));
      }
    });

    it("should give a dag-pb root for a file one byte longer than a chunk", async function () {
      const cid = await checkpointCid(randomBytes(UNIXFS_CHUNK_BYTES + 1));
      expect(cid.code).to.equal(CODEC_DAG_PB);
    });

    it("should pin the chunk size and fan-out (vector: 175 zero chunks, one more than UNIXFS_MAX_CHILDREN)", async function () {
      expect(UNIXFS_CHUNK_BYTES).to.equal(262_144);
      expect(UNIXFS_MAX_CHILDREN).to.equal(174);
      // Two levels: a node of 174 leaves and a node of 1, under a root of 2. The CID was also
      // computed by an independent re-encoding of dag-pb/UnixFS by hand (Python, hashlib);
      // with 1024 links per node it would be bafybeibftr5hbippqfvakdltcz2aznho73ovjlup7ecyswpdkp3rytg3ey.
      const cid = await checkpointCid(new Uint8Array(UNIXFS_CHUNK_BYTES * (UNIXFS_MAX_CHILDREN + 1)));
      expect(cid.toString()).to.equal("bafybeigfps5vzivfspwgm3uwsfyl5s6bn3ysh7uqidgauxgopw4yi66lse");
    });
  });

  describe("cidToOnchain / cidFromOnchain", function () {
    it("should round-trip raw and dag-pb CIDv1", async function () {
      for (const size of [10, 3 * UNIXFS_CHUNK_BYTES]) {
        const cid = await checkpointCid(randomBytes(size));
        const { codec, digest } = cidToOnchain(cid);
        expect(digest).to.match(/^0x[0-9a-f]{64}$/);
        expect(cidFromOnchain(codec, digest).equals(cid)).to.equal(true);
        expect(cidFromOnchain(BigInt(codec), Buffer.from(digest.slice(2), "hex")).equals(cid)).to.equal(true);
        expect(cidToOnchain(cid.toString())).to.deep.equal({ codec, digest });
      }
    });

    it("should convert a CIDv0 to the dag-pb CIDv1 with the same digest", function () {
      const v0 = "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG";
      const onchain = cidToOnchain(v0);
      expect(onchain.codec).to.equal(CODEC_DAG_PB);
      const back = cidFromOnchain(onchain.codec, onchain.digest);
      expect(back.version).to.equal(1);
      expect(back.equals(CID.parse(v0).toV1())).to.equal(true);
    });

    it("should refuse a hash other than sha2-256", async function () {
      const cid = CID.createV1(CODEC_RAW, await sha512.digest(new Uint8Array([1, 2, 3])));
      expectThrows(() => cidToOnchain(cid), ErrorCode.CID_UNSUPPORTED, /multihash 0x13/);
    });

    it("should refuse a codec other than raw or dag-pb", async function () {
      const cid = CID.createV1(0x71, (await checkpointCid(new Uint8Array([1]))).multihash);
      expectThrows(() => cidToOnchain(cid), ErrorCode.CID_UNSUPPORTED, /codec 0x71/);
      expectThrows(() => cidFromOnchain(0x71, `0x${"00".repeat(32)}`), ErrorCode.CID_UNSUPPORTED, /codec 0x71/);
    });

    it("should refuse a digest that is not 32 bytes", function () {
      const truncated = CID.createV1(CODEC_RAW, Digest.create(0x12, new Uint8Array(20)));
      expectThrows(() => cidToOnchain(truncated), ErrorCode.CID_UNSUPPORTED, /20-byte digest/);
      expectThrows(() => cidFromOnchain(CODEC_RAW, `0x${"00".repeat(31)}`), ErrorCode.CID_UNSUPPORTED, /64 hex digits/);
      expectThrows(() => cidFromOnchain(CODEC_RAW, new Uint8Array(33)), ErrorCode.CID_UNSUPPORTED, /33 bytes/);
    });

    it("should refuse a string that is not a CID", function () {
      expectThrows(() => cidToOnchain("not-a-cid"), ErrorCode.CID_UNSUPPORTED, /is not a CID/);
    });
  });
});

describe("openCheckpointStore (aggregator/adapters/storage/checkpoint-store.ts)", function () {
  const opened: CheckpointStore[] = [];
  const directories: string[] = [];

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), "dsain-ipfs-test-"));
    directories.push(dir);
    return dir;
  }

  async function open(directory: string, listen = false): Promise<CheckpointStore> {
    const store = await openCheckpointStore({ directory, listen });
    opened.push(store);
    return store;
  }

  // Every test's nodes are stopped and its directories removed, whether it passed or not.
  afterEach(async function () {
    await Promise.all(opened.splice(0).map((s) => s.stop()));
    await Promise.all(directories.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it("should round-trip a 1 MB checkpoint under the CID checkpointCid computes", async function () {
    const store = await open(await tempDir());
    const bytes = randomBytes(MB);
    const cid = await store.put(bytes);
    expect(cid.equals(await checkpointCid(bytes))).to.equal(true);
    expect(cid.code).to.equal(CODEC_DAG_PB);
    expect(Buffer.from(await store.get(cid)).equals(bytes)).to.equal(true);
    expect(Buffer.from(await store.getVerified(cid.toString())).equals(bytes)).to.equal(true);
    expect(await store.has(cid)).to.equal(true);
    expect(await store.isPinned(cid)).to.equal(true);
  });

  it("should round-trip a checkpoint smaller than one chunk as a raw CID", async function () {
    const store = await open(await tempDir());
    const bytes = randomBytes(5000);
    const cid = await store.put(bytes);
    expect(cid.code).to.equal(CODEC_RAW);
    expect(cid.equals(await checkpointCid(bytes))).to.equal(true);
    expect(Buffer.from(await store.getVerified(cid)).equals(bytes)).to.equal(true);
  });

  it("should accept the same checkpoint twice", async function () {
    const store = await open(await tempDir());
    const bytes = randomBytes(300_000);
    const first = await store.put(bytes);
    expect((await store.put(bytes)).equals(first)).to.equal(true);
  });

  it("should keep data, pins and peer id across stop and reopen", async function () {
    const directory = await tempDir();
    const first = await open(directory);
    const bytes = randomBytes(700_000);
    const cid = await first.put(bytes);
    const peerId = first.peerId;
    await first.stop();

    const second = await open(directory);
    expect(second.peerId).to.equal(peerId);
    expect(await second.isPinned(cid)).to.equal(true);
    expect(Buffer.from(await second.getVerified(cid)).equals(bytes)).to.equal(true);
  });

  it("should return a flipped local block unverified from get (Helia does not re-hash local blocks) and fail getVerified with IPFS_INTEGRITY", async function () {
    const store = await open(await tempDir());
    const bytes = randomBytes(MB);
    const cid = await store.put(bytes);
    const leaf = await firstLeaf(store, cid);
    const file = blockFilePath(store, leaf);
    const block = await readFile(file);
    block[100] ^= 0x01;
    await writeFile(file, block);

    const read = await store.get(cid);
    expect(read.length).to.equal(bytes.length);
    expect(Buffer.from(read).equals(bytes)).to.equal(false);
    const corrupt = await checkpointCid(read);
    await expectRejects(store.getVerified(cid), ErrorCode.IPFS_INTEGRITY, new RegExp(`bytes read for ${cid} hash to ${corrupt}`));
  });

  it("should fail getVerified with IPFS_INTEGRITY when the root block is corrupt", async function () {
    const store = await open(await tempDir());
    const cid = await store.put(randomBytes(MB));
    const file = blockFilePath(store, cid);
    const block = await readFile(file);
    block[block.length - 3] ^= 0x01;
    await writeFile(file, block);
    await expectRejects(store.getVerified(cid), ErrorCode.IPFS_INTEGRITY, new RegExp(`bytes read for ${cid} hash to bafy`));
  });

  it("should fail fast with IPFS_NOT_FOUND naming an unknown CID", async function () {
    this.timeout(10_000);
    const store = await open(await tempDir());
    const unknown = await checkpointCid(randomBytes(64));
    const started = Date.now();
    await expectRejects(store.get(unknown), ErrorCode.IPFS_NOT_FOUND, new RegExp(unknown.toString()));
    expect(Date.now() - started).to.be.below(2000);
    expect(await store.has(unknown)).to.equal(false);
  });

  it("should fail with IPFS_NOT_FOUND, and has() be false, when one leaf is missing", async function () {
    this.timeout(10_000);
    const store = await open(await tempDir());
    const cid = await store.put(randomBytes(MB));
    await unlink(blockFilePath(store, await firstLeaf(store, cid)));
    expect(await store.has(cid)).to.equal(false);
    await expectRejects(store.get(cid), ErrorCode.IPFS_NOT_FOUND, new RegExp(cid.toString()));
  });

  it("should write nothing to its directory once stopped", async function () {
    const directory = await tempDir();
    const store = await open(directory, true);
    await store.put(randomBytes(10));
    await store.stop();
    const before = await readdir(directory, { recursive: true });
    await new Promise((resolve) => setTimeout(resolve, 1500)); // libp2p's peer-record update fires 1 s after close
    expect(await readdir(directory, { recursive: true })).to.deep.equal(before);
  });

  it("should refuse reads after stop", async function () {
    const store = await open(await tempDir());
    const cid = await store.put(randomBytes(10));
    await store.stop();
    await expectRejects(store.get(cid), ErrorCode.IPFS_FAILURE, /stopped/);
  });

  it("should open no socket when listen is false", async function () {
    const store = await open(await tempDir());
    expect(store.multiaddrs).to.deep.equal([]);
  });

  it("should listen only on 127.0.0.1 and dial nothing", async function () {
    // Every way out of this process that the stack could use: TCP, UDP and fetch (gateways, DoH).
    const attempts: string[] = [];
    const connect = net.Socket.prototype.connect;
    const send = dgram.Socket.prototype.send;
    const fetch = globalThis.fetch;
    net.Socket.prototype.connect = function (this: net.Socket, ...args: unknown[]) {
      attempts.push(`tcp ${JSON.stringify(args[0])}`);
      return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
    } as typeof connect;
    dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
      attempts.push("udp");
      return (send as (...a: unknown[]) => void).apply(this, args);
    } as typeof send;
    globalThis.fetch = (async (...args: Parameters<typeof fetch>) => {
      attempts.push(`fetch ${String(args[0])}`);
      return fetch(...args);
    }) as typeof fetch;
    let store: CheckpointStore;
    try {
      store = await open(await tempDir(), true);
      const cid = await store.put(randomBytes(MB));
      await store.getVerified(cid);
      await new Promise((resolve) => setTimeout(resolve, 1500)); // time for any background dialling
    } finally {
      net.Socket.prototype.connect = connect;
      dgram.Socket.prototype.send = send;
      globalThis.fetch = fetch;
    }
    expect(attempts).to.deep.equal([]);

    expect(store.multiaddrs).to.have.length.greaterThan(0);
    for (const ma of store.multiaddrs) expect(ma).to.match(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${store.peerId}$`));
    const port = Number(store.multiaddrs[0].split("/")[4]);
    // The port really is open on loopback, and closed on any other address this machine has.
    await new Promise<void>((resolve, reject) =>
      net
        .connect(port, "127.0.0.1")
        .on("connect", function (this: net.Socket) {
          this.destroy();
          resolve();
        })
        .on("error", reject),
    );
    const others = Object.values(os.networkInterfaces())
      .flat()
      .filter((i) => i !== undefined && i.family === "IPv4" && !i.internal);
    for (const other of others) {
      const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
        const socket = net.connect(port, other!.address);
        socket
          .on("connect", () => {
            socket.destroy();
            resolve(undefined);
          })
          .on("error", resolve);
      });
      expect(error?.code, `port ${port} must be closed on ${other!.address}`).to.equal("ECONNREFUSED");
    }
  });
});
