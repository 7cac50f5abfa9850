// A checkpoint store in its own process, for tests of the networked store: opens a network store
// in argv[2] listening on argv[3] (a TCP multiaddr), puts `size` pseudo-random bytes for each size
// in argv[4] (comma separated, may be empty), echoes every message on topic "ping" to topic "pong",
// prints one JSON ready line {peerId, multiaddrs, cids} on stdout, and stops cleanly on SIGTERM.
// It runs only as a script: `hardhat test` loads every file under test/, this one included.
import { pathToFileURL } from "node:url";
import { openCheckpointStore } from "../../aggregator/adapters/storage/checkpoint-store.js";

function bytesOf(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

async function main(): Promise<void> {
  const [directory, listen, sizes = ""] = process.argv.slice(2);
  const store = await openCheckpointStore({ directory, listen, network: {} });
  const cids: string[] = [];
  for (const [i, size] of sizes.split(",").filter(Boolean).entries()) cids.push((await store.put(bytesOf(Number(size), i + 1))).toString());
  const topics = store.topics!;
  topics.subscribe("ping", (message) => {
    void topics.publish("pong", message.data, { waitForPeersMs: 2000 }).catch(() => undefined);
  });
  process.once("SIGTERM", () => {
    void store.stop().then(() => process.exit(0));
  });
  process.stdout.write(`${JSON.stringify({ peerId: store.peerId, multiaddrs: store.multiaddrs, cids })}\n`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
