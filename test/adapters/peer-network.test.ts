// The networked checkpoint store: a second store in its own process on 127.0.0.1, dialled by
// multiaddr; files fetched over bitswap (checked, capped, pinned), topic messages over gossipsub,
// a peer that is killed and restarted found again, and bad addresses refused by name.
import { expect } from "chai";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { openCheckpointStore, type CheckpointStore } from "../../aggregator/adapters/storage/checkpoint-store.js";
import { MAX_MESSAGE_BYTES } from "../../aggregator/adapters/storage/pubsub.js";
import { checkpointCid } from "../../aggregator/protocol/cid.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { freePort, startNodeScript, stopProcess, type ReadyProcess } from "../helpers/processes.js";

const PEER_SCRIPT = path.join(PROJECT_ROOT, "test", "helpers", "store-peer.ts");
const MB = 1 << 20;

interface PeerReady {
  peerId: string;
  multiaddrs: string[];
  cids: string[];
}

async function rejection(promise: Promise<unknown>): Promise<DsainError> {
  try {
    await promise;
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    return e as DsainError;
  }
  return expect.fail("expected a DsainError");
}

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) expect.fail(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("networked checkpoint store (bitswap + gossipsub between processes)", function () {
  let dir: string;
  let peer: ReadyProcess<PeerReady> | undefined;
  let peerListen: string;
  let local: CheckpointStore | undefined;
  const sizes = [8 * MB, 300_000];

  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "dsain-peer-net-"));
    peerListen = `/ip4/127.0.0.1/tcp/${await freePort()}`;
    peer = await startNodeScript<PeerReady>(PEER_SCRIPT, [path.join(dir, "peer"), peerListen, sizes.join(",")], PROJECT_ROOT);
    expect(peer.ready.multiaddrs).to.deep.equal([`${peerListen}/p2p/${peer.ready.peerId}`]);
    local = await openCheckpointStore({
      directory: path.join(dir, "local"),
      network: { peers: [`${peerListen}/p2p/${peer.ready.peerId}`], redialMs: 200 },
    });
    await until(() => local!.peers()[0].connected, 10_000, "the configured peer to connect");
  });

  after(async function () {
    await local?.stop();
    await stopProcess(peer?.process);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("should fetch an 8 MB file from the peer over bitswap, byte-exact, and pin it", async function () {
    const cid = peer!.ready.cids[0];
    expect(await local!.has(cid)).to.equal(false);
    const started = performance.now();
    const bytes = await local!.fetch(cid, { maxBytes: 16 * MB });
    const ms = performance.now() - started;
    expect(bytes.length).to.equal(8 * MB);
    expect((await checkpointCid(bytes)).toString()).to.equal(cid);
    expect(await local!.isPinned(cid)).to.equal(true);
    expect(await local!.has(cid)).to.equal(true);
    // Once fetched it is served locally, also with the peer gone: getVerified reads local blocks only.
    expect((await local!.getVerified(cid)).length).to.equal(8 * MB);
    console.log(`      8 MB bitswap fetch between two processes: ${ms.toFixed(0)} ms`);
  });

  it("should refuse a file above maxBytes by its declared size, and keep working", async function () {
    const cid = peer!.ready.cids[1];
    const e = await rejection(local!.fetch(cid, { maxBytes: 100_000 }));
    expect(e.code).to.equal(ErrorCode.CONTENT_TOO_LARGE);
    expect(e.message).to.include(cid).and.include("300000 bytes").and.include("100000-byte limit");
    expect(await local!.isPinned(cid)).to.equal(false);
    expect((await local!.fetch(cid, { maxBytes: 300_000 })).length).to.equal(300_000);
  });

  it("should give up on content no peer has with a retryable PEER_UNAVAILABLE naming the CID", async function () {
    const absent = await checkpointCid(new TextEncoder().encode("nobody stored this"));
    const e = await rejection(local!.fetch(absent, { maxBytes: MB, timeoutMs: 1500 }));
    expect(e.code, e.message).to.equal(ErrorCode.PEER_UNAVAILABLE);
    expect(e.retryable).to.equal(true);
    expect(e.message).to.include(absent.toString()).and.include("1 connected").and.include("1500 ms");
  });

  it("should carry topic messages both ways and refuse an oversized one by name", async function () {
    const received: string[] = [];
    const unsubscribe = local!.topics!.subscribe("pong", (m) => {
      expect(m.from).to.equal(peer!.ready.peerId);
      received.push(new TextDecoder().decode(m.data));
    });
    try {
      await until(() => local!.topics!.subscribers("ping").length === 1, 10_000, "the peer's subscription to ping");
      for (let i = 0; i < 5; i++) expect(await local!.topics!.publish("ping", new TextEncoder().encode(`m${i}`))).to.equal(1);
      await until(() => received.length === 5, 10_000, "5 echoes");
      expect(received).to.have.members(["m0", "m1", "m2", "m3", "m4"]);
      const e = await rejection(local!.topics!.publish("ping", new Uint8Array(MAX_MESSAGE_BYTES + 1)));
      expect(e.code).to.equal(ErrorCode.CONTENT_TOO_LARGE);
      expect(e.message).to.include(`${MAX_MESSAGE_BYTES + 1}-byte message on ping`);
    } finally {
      unsubscribe();
    }
  });

  it("should find a SIGKILLed peer again when it restarts on its address, and fetch what it stored since", async function () {
    expect(await stopProcess(peer!.process, "SIGKILL")).to.equal("SIGKILL");
    await until(() => !local!.peers()[0].connected, 10_000, "the connection to close");
    // Same directory, same address: the peer id is kept in its datastore.
    peer = await startNodeScript<PeerReady>(PEER_SCRIPT, [path.join(dir, "peer"), peerListen, "4096"], PROJECT_ROOT);
    await until(() => local!.peers()[0].connected, 15_000, "the redial loop to reconnect");
    expect(local!.peers()[0].peerId).to.equal(peer.ready.peerId);
    expect((await local!.fetch(peer.ready.cids[0], { maxBytes: MB })).length).to.equal(4096);
    const received: string[] = [];
    const unsubscribe = local!.topics!.subscribe("pong", (m) => received.push(new TextDecoder().decode(m.data)));
    try {
      await until(() => local!.topics!.subscribers("ping").length === 1, 10_000, "the restarted peer's subscription");
      await local!.topics!.publish("ping", new TextEncoder().encode("again"));
      await until(() => received.includes("again"), 10_000, "the echo from the restarted peer");
    } finally {
      unsubscribe();
    }
    expect(await stopProcess(peer.process)).to.equal(0); // SIGTERM: stops its node and exits 0
  });

  it("should refuse a peer address without a peer id, a malformed one and a bad listen address, naming each", async function () {
    const taken = local!.multiaddrs[0].replace(/\/p2p\/.*$/, ""); // this process's own node listens there
    const cases: [Parameters<typeof openCheckpointStore>[0], string][] = [
      [{ directory: path.join(dir, "bad1"), network: { peers: ["/ip4/127.0.0.1/tcp/4001"] } }, "has no /p2p/<peer id>"],
      [{ directory: path.join(dir, "bad2"), network: { peers: ["not-an-address"] } }, '"not-an-address" is not a multiaddr'],
      [
        { directory: path.join(dir, "bad3"), network: { peers: ["/ip4/127.0.0.1/tcp/4001/p2p/xyz"] } },
        'names "xyz", which is not a libp2p peer id',
      ],
      [{ directory: path.join(dir, "bad4"), listen: "127.0.0.1:4001", network: {} }, 'listen address "127.0.0.1:4001"'],
      [{ directory: path.join(dir, "bad5"), listen: taken, network: {} }, `the listen address ${taken} is already in use`],
    ];
    for (const [options, message] of cases) {
      const opened = openCheckpointStore(options);
      opened.then((store) => store.stop()).catch(() => undefined); // never leave a node running if one opens
      const e = await rejection(opened);
      expect(e.code).to.equal(ErrorCode.CONFIG_INVALID);
      expect(e.message).to.include(message);
    }
  });

  it("should say an offline store cannot dial, and fetch from local blocks only", async function () {
    const offline = await openCheckpointStore({ directory: path.join(dir, "offline") });
    try {
      expect(offline.topics).to.equal(undefined);
      const e = await rejection(offline.dial(`${peerListen}/p2p/${peer!.ready.peerId}`));
      expect(e.code).to.equal(ErrorCode.INPUT_INVALID);
      const cid = await offline.put(new Uint8Array([1, 2, 3]));
      expect([...(await offline.fetch(cid, { maxBytes: 3 }))]).to.deep.equal([1, 2, 3]);
      const missing = await rejection(offline.fetch(peer!.ready.cids[0], { maxBytes: MB }));
      expect(missing.code).to.equal(ErrorCode.IPFS_NOT_FOUND);
      expect(missing.retryable).to.equal(false);
    } finally {
      await offline.stop();
    }
  });
});
