// The daemons' wire messages and the proposer rotation (aggregator/protocol/wire.ts, docs/protocol.md §15).
import { expect } from "chai";
import fc from "fast-check";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import {
  MAX_WIRE_MESSAGE_BYTES,
  WIRE_VERSION,
  decodeWireMessage,
  encodeWireMessage,
  proposerOf,
  proposerSlot,
  topicKindOf,
  topicName,
  type WireMessage,
} from "../../aggregator/protocol/wire.js";

const ADDR = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";
const ROOT = `0x${"ab".repeat(32)}`;
const SIG = `0x${"11".repeat(65)}`;
const CID = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";

const samples: WireMessage[] = [
  {
    v: WIRE_VERSION,
    kind: "update",
    federationId: 1n,
    round: 3n,
    participant: ADDR,
    cid: CID,
    updateRoot: ROOT,
    sampleCount: 600n,
    signature: "0x",
  },
  {
    v: WIRE_VERSION,
    kind: "update",
    federationId: 2n ** 200n,
    round: 3n,
    participant: ADDR,
    cid: CID,
    updateRoot: ROOT,
    sampleCount: 600n,
    signature: SIG,
    eddsa: { meta: 5n, R8x: 7n, R8y: 11n, S: 13n },
  },
  {
    v: WIRE_VERSION,
    kind: "proposal",
    federationId: 1n,
    round: 3n,
    parentRound: 2n,
    slot: 1,
    proposer: ADDR,
    included: [{ participant: ADDR, cid: CID }],
    checkpointCid: CID,
    recordDigest: ROOT,
    signature: SIG,
  },
  { v: WIRE_VERSION, kind: "endorsement", federationId: 1n, round: 3n, recordDigest: ROOT, signer: ADDR, signature: SIG },
  { v: WIRE_VERSION, kind: "refusal", federationId: 1n, round: 3n, recordDigest: ROOT, signer: ADDR, reason: "weights differ" },
];

function refused(bytes: Uint8Array | string, code: string = ErrorCode.INPUT_INVALID): string {
  const input = typeof bytes === "string" ? new TextEncoder().encode(bytes) : bytes;
  try {
    decodeWireMessage(input);
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    expect((e as DsainError).code).to.equal(code);
    return (e as DsainError).message;
  }
  return expect.fail("expected the message to be refused");
}

function json(message: WireMessage, change: Record<string, unknown>): string {
  const plain = JSON.parse(new TextDecoder().decode(encodeWireMessage(message))) as Record<string, unknown>;
  return JSON.stringify({ ...plain, ...change });
}

describe("wire messages (docs/protocol.md §15)", function () {
  it("should round-trip every kind, bigints included, and route it to its topic", function () {
    for (const message of samples) {
      expect(decodeWireMessage(encodeWireMessage(message))).to.deep.equal(message);
    }
    expect(samples.map(topicKindOf)).to.deep.equal(["updates", "updates", "proposals", "endorsements", "endorsements"]);
  });

  it("should name the topic by chain, ledger (lowercase), federation and kind", function () {
    expect(topicName(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3", 7n, "proposals")).to.equal(
      "/dsain/1/31337/0x5fbdb2315678afecb367f032d93f642f64180aa3/7/proposals",
    );
    expect(() => topicName(1n, "0x12", 1n, "updates")).to.throw(DsainError, "is not an address");
  });

  it("should refuse a malformed message naming the field and what it must be", function () {
    const [direct, , proposal, endorsement] = samples;
    expect(refused(json(direct, { round: "-1" }))).to.match(/\(update\): field round: a decimal integer/);
    expect(refused(json(direct, { round: "18446744073709551616" }))).to.match(/field round: below 2\^64/);
    expect(refused(json(direct, { updateRoot: "0x1234" }))).to.match(/field updateRoot: 0x and 32 bytes in hex/);
    expect(refused(json(direct, { signature: `0x${"11".repeat(64)}` }))).to.match(/field signature/);
    expect(refused(json(direct, { cid: "QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG" }))).to.match(/field cid: a CIDv1 in base32/);
    expect(refused(json(direct, { extra: 1 }))).to.match(/the message: Unrecognized key/);
    expect(refused(json(proposal, { included: [] }))).to.match(/\(proposal\): field included/);
    expect(refused(json(proposal, { slot: 1.5 }))).to.match(/field slot/);
    expect(refused(json(endorsement, { kind: "gossip" }))).to.match(/\(gossip\)/);
    expect(refused(json(endorsement, { v: 2 }))).to.equal("a message of wire version 2; this daemon speaks version 1");
    expect(refused("{not json")).to.equal("a message that is not UTF-8 JSON");
    expect(refused(new Uint8Array([0x22, 0xff, 0x22]))).to.equal("a message that is not UTF-8 JSON");
    expect(refused("[]")).to.match(/a malformed message: the message/);
    expect(refused(new Uint8Array(MAX_WIRE_MESSAGE_BYTES + 1), ErrorCode.CONTENT_TOO_LARGE)).to.include("wire limit");
  });

  it("should refuse to encode what it could not decode", function () {
    expect(() => encodeWireMessage({ ...samples[0], updateRoot: "0x12" } as WireMessage)).to.throw(DsainError, "field updateRoot");
  });
});

describe("proposer rotation (docs/protocol.md §15)", function () {
  const committee = ["0xA", "0xB", "0xC"];

  it("should start each round with a different member and hand over slot by slot", function () {
    expect([0, 1, 2, 3].map((s) => proposerOf(0n, committee, s))).to.deep.equal(["0xA", "0xB", "0xC", "0xA"]);
    expect([0, 1, 2].map((s) => proposerOf(4n, committee, s))).to.deep.equal(["0xB", "0xC", "0xA"]);
    expect(proposerOf(2n ** 64n - 1n, committee, 0)).to.equal(committee[Number((2n ** 64n - 1n) % 3n)]);
  });

  it("should reach an honest proposer within f+1 slots whoever the f silent members are", function () {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
        fc.array(fc.nat(), { maxLength: 5 }),
        (f, round, picks) => {
          const members = Array.from({ length: 2 * f + 1 }, (_, i) => `m${i}`);
          const silent = new Set(picks.slice(0, f).map((p) => members[p % members.length]));
          const slots = Array.from({ length: f + 1 }, (_, s) => proposerOf(round, members, s));
          expect(new Set(slots).size).to.equal(f + 1);
          expect(slots.some((m) => !silent.has(m))).to.equal(true);
        },
      ),
      { numRuns: 200, seed: 17 },
    );
  });

  it("should count slots from the round's opening in chain time", function () {
    expect(proposerSlot(1000n, 999n, 10)).to.equal(0);
    expect(proposerSlot(1000n, 1009n, 10)).to.equal(0);
    expect(proposerSlot(1000n, 1010n, 10)).to.equal(1);
    expect(proposerSlot(1000n, 1035n, 10)).to.equal(3);
    expect(() => proposerSlot(0n, 1n, 0)).to.throw(DsainError, "slotSeconds 0");
    expect(() => proposerOf(1n, [], 0)).to.throw(DsainError, "empty");
    expect(() => proposerOf(1n, committee, -1)).to.throw(DsainError, "slot -1");
  });
});
