// The daemons' plumbing without a chain: config validation and flags, keys (keystore, password,
// file modes, BabyJubJub), the SQLite state (cursor, no-equivocation log across a reopen, pending
// transactions) and retries of transient faults only.
import { expect } from "chai";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import { loadNodeConfig } from "../../aggregator/nodes/config.js";
import { DEFAULT_PASSWORD_ENV, loadBabyJubKey, loadWallet, writeKeystore, writePrivateFile } from "../../aggregator/nodes/keys.js";
import { NodeState } from "../../aggregator/nodes/state.js";
import { withRetry } from "../../aggregator/nodes/retry.js";
import { babyJubKeyPair } from "../../aggregator/protocol/eddsa.js";

const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";

async function refusal(promise: Promise<unknown> | (() => unknown), code: string = ErrorCode.CONFIG_INVALID): Promise<string> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    expect((e as DsainError).code, (e as Error).message).to.equal(code);
    return (e as DsainError).message;
  }
  return expect.fail(`expected a DsainError with code ${code}`);
}

describe("daemons: config, keys, state, retries (aggregator/nodes)", function () {
  let dir: string;
  before(async function () {
    dir = await mkdtemp(path.join(os.tmpdir(), "dsain-nodes-"));
  });
  after(async function () {
    await rm(dir, { recursive: true, force: true });
  });

  const aggregator = {
    rpc: "http://127.0.0.1:8545",
    ledger: LEDGER,
    federationId: 1,
    key: { keystore: "keys/aggregator.json" },
    dataDir: "data",
  };
  async function configFile(name: string, content: unknown): Promise<string> {
    const file = path.join(dir, name);
    await writeFile(file, typeof content === "string" ? content : JSON.stringify(content));
    return file;
  }

  describe("config", function () {
    it("should fill defaults and resolve paths from the config file's folder", async function () {
      const c = loadNodeConfig("aggregator", await configFile("a.json", aggregator));
      expect(c.federationId).to.equal(1n);
      expect(c.dataDir).to.equal(path.join(dir, "data"));
      expect(c.key).to.deep.equal({ keystore: path.join(dir, "keys", "aggregator.json") });
      expect(c).to.include({ listen: "/ip4/127.0.0.1/tcp/0", pollMs: 1000, slotSeconds: 30, collectSeconds: 20, prove: true });
      expect(c.peers).to.deep.equal([]);
      expect(c.metrics).to.equal(undefined);
      expect(c.log.level).to.equal("info");
    });

    it("should let flags override the file's fields", async function () {
      const file = await configFile("b.json", { ...aggregator, metrics: { port: 9100 } });
      const c = loadNodeConfig("aggregator", file, {
        rpc: "http://127.0.0.1:9999",
        federationId: "7",
        peers: ["/ip4/127.0.0.1/tcp/4001/p2p/x"],
        metricsPort: 0,
        logLevel: "debug",
        dataDir: "rel",
      });
      expect(c.rpc).to.equal("http://127.0.0.1:9999");
      expect(c.federationId).to.equal(7n);
      expect(c.peers).to.deep.equal(["/ip4/127.0.0.1/tcp/4001/p2p/x"]);
      expect(c.metrics).to.deep.equal({ host: "127.0.0.1", port: 0 });
      expect(c.log.level).to.equal("debug");
      expect(c.dataDir).to.equal(path.resolve("rel")); // a flag's path is the caller's, not the file's
    });

    it("should refuse a wrong field naming the file, the field and what it must be", async function () {
      const cases: [string, unknown, RegExp][] = [
        ["ledger", { ...aggregator, ledger: "0x12" }, /field ledger: an address/],
        ["rpc", { ...aggregator, rpc: "ftp://x" }, /field rpc: an http\(s\):\/\/ or ws\(s\):\/\/ URL/],
        ["federationId", { ...aggregator, federationId: -1 }, /field federationId/],
        ["slotSeconds", { ...aggregator, slotSeconds: 0 }, /field slotSeconds: Too small/],
        ["unknown", { ...aggregator, slotSecs: 5 }, /the config: Unrecognized key: "slotSecs"/],
        ["metrics.port", { ...aggregator, metrics: { port: 70000 } }, /field metrics\.port/],
        ["missing", { ...aggregator, dataDir: undefined }, /field dataDir/],
      ];
      for (const [name, content, message] of cases) {
        const file = await configFile(`bad-${name}.json`, content);
        const m = await refusal(() => loadNodeConfig("aggregator", file));
        expect(m, name).to.match(message);
        expect(m, name).to.include(file);
      }
      const shard = await configFile("bad-shard.json", { ...aggregator, data: { kind: "mnist", shard: 4, shards: 4 } });
      expect(await refusal(() => loadNodeConfig("participant", shard))).to.match(/field data\.shard: below data\.shards/);
      expect(await refusal(() => loadNodeConfig("aggregator", path.join(dir, "none.json")))).to.match(
        /cannot read the aggregator config .*none\.json: no such file/,
      );
      const syntax = await configFile("syntax.json", "{ rpc: 1");
      expect(await refusal(() => loadNodeConfig("aggregator", syntax))).to.match(/syntax\.json is not JSON/);
    });
  });

  describe("keys", function () {
    it("should unlock a keystore with the password from the environment or a 0600 file", async function () {
      const wallet = new Wallet(KEY);
      const keystore = path.join(dir, "ks.json");
      await writeKeystore(keystore, wallet, "s3cret", { light: true });
      expect((await loadWallet({ keystore }, { [DEFAULT_PASSWORD_ENV]: "s3cret" })).address).to.equal(wallet.address);
      expect((await loadWallet({ keystore, passwordEnv: "OTHER" }, { OTHER: "s3cret" })).address).to.equal(wallet.address);
      const pw = path.join(dir, "pw.txt");
      await writePrivateFile(pw, "s3cret");
      expect((await loadWallet({ keystore, passwordFile: pw }, {})).address).to.equal(wallet.address);
    });

    it("should refuse a wrong password, a missing one, a readable password or key file and a bad key, naming each", async function () {
      const keystore = path.join(dir, "ks2.json");
      await writeKeystore(keystore, new Wallet(KEY), "right", { light: true });
      expect(await refusal(loadWallet({ keystore }, { [DEFAULT_PASSWORD_ENV]: "wrong" }))).to.equal(
        `wrong password for the keystore ${keystore} (password from the environment variable ${DEFAULT_PASSWORD_ENV})`,
      );
      expect(await refusal(loadWallet({ keystore }, {}))).to.include(`set the environment variable ${DEFAULT_PASSWORD_ENV}`);
      expect(await refusal(loadWallet({ keystore: path.join(dir, "nope.json") }, {}))).to.match(
        /cannot read the keystore .*nope\.json: ENOENT/,
      );
      const notKeystore = await configFile("notks.json", { hello: 1 });
      expect(await refusal(loadWallet({ keystore: notKeystore }, { [DEFAULT_PASSWORD_ENV]: "x" }))).to.include(
        "is not an encrypted JSON keystore",
      );

      const raw = path.join(dir, "raw.key");
      await writeFile(raw, KEY);
      await chmod(raw, 0o644);
      expect(await refusal(loadWallet({ rawKeyFile: raw }))).to.equal(
        `the raw key file ${raw} can be read by others (mode 0644); run chmod 600 on it`,
      );
      await chmod(raw, 0o600);
      expect((await loadWallet({ rawKeyFile: raw })).address).to.equal(new Wallet(KEY).address);
      await writePrivateFile(raw, "0x1234");
      expect(await refusal(loadWallet({ rawKeyFile: raw }))).to.include("does not hold a private key");

      const pw = path.join(dir, "pw-open.txt");
      await writeFile(pw, "right");
      await chmod(pw, 0o640);
      expect(await refusal(loadWallet({ keystore, passwordFile: pw }, {}))).to.include("password file");
    });

    it("should load a BabyJubJub key from a 0600 file", async function () {
      const file = path.join(dir, "bjj.key");
      const secret = "11".repeat(32);
      await writePrivateFile(file, secret);
      expect((await loadBabyJubKey(file)).publicKey).to.deep.equal((await babyJubKeyPair(Buffer.from(secret, "hex"))).publicKey);
      await chmod(file, 0o604);
      expect(await refusal(loadBabyJubKey(file))).to.include("mode 0604");
    });
  });

  describe("state (node:sqlite)", function () {
    it("should keep the cursor, the endorsement log and pending transactions across a reopen", async function () {
      const file = path.join(dir, "state.sqlite");
      let state = await NodeState.open(file);
      expect(state.cursor("events")).to.equal(undefined);
      state.setCursor("events", 41n);
      state.setCursor("events", 42n);
      const log = state.endorsementLog(3n);
      expect(await log.signed(5n)).to.equal(undefined);
      await log.record(5n, `0x${"AB".repeat(32)}`);
      state.addPending({ hash: "0x01", method: "postRound", federationId: 3n, round: 5n, nonce: 9, sentAt: 1 });
      state.close();

      state = await NodeState.open(file);
      try {
        expect(state.cursor("events")).to.equal(42n);
        expect(await state.endorsementLog(3n).signed(5n)).to.equal(`0x${"ab".repeat(32)}`);
        expect(await state.endorsementLog(4n).signed(5n)).to.equal(undefined); // per federation
        await state.endorsementLog(3n).record(5n, `0x${"ab".repeat(32)}`); // the same record again: fine
        const m = await refusal(state.endorsementLog(3n).record(5n, `0x${"cd".repeat(32)}`), ErrorCode.INPUT_INVALID);
        expect(m).to.include("already signed record 0xabab").and.include("round 5 of federation 3");
        expect(state.pending()).to.deep.equal([{ hash: "0x01", method: "postRound", federationId: 3n, round: 5n, nonce: 9, sentAt: 1 }]);
        state.resolvePending("0x01");
        expect(state.pending()).to.deep.equal([]);
      } finally {
        state.close();
      }
    });

    it("should refuse a file that is not a state file by name", async function () {
      const file = await configFile("garbage.sqlite", "this is not a database, just text long enough to be read as a header......");
      expect(await refusal(NodeState.open(file))).to.include(`cannot open the daemon's state file ${file}`);
    });
  });

  describe("retries", function () {
    it("should retry a retryable failure and stop at once on any other", async function () {
      let calls = 0;
      const value = await withRetry(
        async () => {
          calls += 1;
          if (calls < 3) throw new DsainError(ErrorCode.PEER_UNAVAILABLE, "not yet");
          return "ok";
        },
        { what: "test", minTimeoutMs: 1, maxTimeoutMs: 2 },
      );
      expect([value, calls]).to.deep.equal(["ok", 3]);
      calls = 0;
      const m = await refusal(
        withRetry(
          async () => {
            calls += 1;
            throw new DsainError(ErrorCode.INPUT_INVALID, "wrong root");
          },
          { what: "test", minTimeoutMs: 1 },
        ),
        ErrorCode.INPUT_INVALID,
      );
      expect([m, calls]).to.deep.equal(["wrong root", 1]);
      calls = 0;
      await refusal(
        withRetry(
          async () => {
            calls += 1;
            throw new DsainError(ErrorCode.CHAIN_UNAVAILABLE, "down");
          },
          { what: "test", retries: 2, minTimeoutMs: 1, maxTimeoutMs: 2 },
        ),
        ErrorCode.CHAIN_UNAVAILABLE,
      );
      expect(calls).to.equal(3);
    });
  });
});
