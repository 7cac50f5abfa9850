// The TypeScript protocol functions against the shared vectors and their refusals (docs/protocol.md).
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Wallet, getAddress, getBytes, hexlify, keccak256, toUtf8Bytes } from "ethers";
import { DsainError, ErrorCode } from "../../aggregator/errors.js";
import {
  ROLLBACK_TYPE,
  ROUND_RECORD_TYPE,
  accountingDigest,
  aggregateExact,
  attestationDigest,
  challengeChunk,
  challengeSeed,
  RECORD_ENTRY_SIZE,
  decodeCheckpoint,
  decodeRecordEntries,
  decodeUpdateFile,
  decodeVector,
  encodeCheckpoint,
  encodeRecordEntries,
  encodeUpdateFile,
  encodeValue,
  encodeVector,
  fieldToBytes32,
  integerWeights,
  isSelected,
  participantsRoot,
  reasonHash,
  recoverAttester,
  recoverRollbackSigner,
  recoverRoundRecordSigner,
  rollbackDigest,
  roundCommitment,
  roundRecordDigest,
  selectParticipants,
  selectionBound,
  selectionSeed,
  shuffledIndex,
  shufflePivots,
  sortParticipants,
  updatesDigest,
  vectorTree,
  type Attestation,
  type UpdateEntry,
} from "../../aggregator/protocol/index.js";
import { checkpointCid } from "../../aggregator/protocol/cid.js";
import { byzFedExactRound } from "../../aggregator/maths/robust/byzfed-exact.js";
import { buildVectors, serialise, VECTORS_DIR } from "../../scripts/gen-vectors.js";
import { readVector, toInt32 } from "../helpers/vectors.js";

function expectCode(fn: () => unknown, code: string): DsainError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(DsainError);
    expect((e as DsainError).code).to.equal(code);
    return e as DsainError;
  }
  return expect.fail(`expected a DsainError with code ${code}`);
}

describe("protocol", function () {
  describe("fixed-point encoding (§1)", function () {
    const v = readVector("fixed-point.json");

    it("should encode every vector value to its reference integer", function () {
      for (const c of v.cases) expect(encodeValue(c.value), `value ${c.value}`).to.equal(Number(c.encoded));
    });

    it("should round ties to even", function () {
      expect(encodeValue(1.5 / 65536)).to.equal(2);
      expect(encodeValue(2.5 / 65536)).to.equal(2);
      expect(encodeValue(-2.5 / 65536)).to.equal(-2);
    });

    it("should refuse values outside int32 and non-finite values, naming the parameter", function () {
      for (const r of v.refused) {
        const code = r.reason === "not finite" ? ErrorCode.ENCODING_NOT_FINITE : ErrorCode.ENCODING_OUT_OF_RANGE;
        expectCode(() => encodeVector([0, Number(r.value)]), code);
      }
      expect(() => encodeVector([0, 40000])).to.throw(/parameter 1/);
    });

    it("should decode to values that re-encode exactly below 256", function () {
      const q = Int32Array.from([0, 1, -1, 65536 * 255, -65536 * 255 + 3]);
      expect(Array.from(encodeVector(decodeVector(q)))).to.deep.equal(Array.from(q));
    });
  });

  describe("vector roots (§2)", function () {
    it("should reproduce every vector's leaves, depth and root", async function () {
      for (const c of readVector("vector-roots.json").cases) {
        const tree = await vectorTree(toInt32(c.values));
        expect(tree.depth, `depth of length ${c.length}`).to.equal(c.depth);
        expect(tree.leaves.map(fieldToBytes32)).to.deep.equal(c.leaves);
        expect(fieldToBytes32(tree.root)).to.equal(c.root);
      }
    });

    it("should change the root when one coordinate changes", async function () {
      const values = Int32Array.from({ length: 40 }, (_, i) => i - 20);
      const a = await vectorTree(values);
      values[33] += 1;
      expect((await vectorTree(values)).root).to.not.equal(a.root);
    });

    it("should refuse an empty vector", async function () {
      try {
        await vectorTree(new Int32Array(0));
        expect.fail("empty vector accepted");
      } catch (e) {
        expect((e as DsainError).code).to.equal(ErrorCode.EMPTY_INPUT);
      }
    });
  });

  describe("weights and exact aggregation (§3)", function () {
    const v = readVector("aggregation.json");

    it("should reproduce the vector weights, summing to 65536", function () {
      for (const c of v.weightCases) {
        const w = integerWeights(c.sampleCounts);
        expect(w).to.deep.equal(c.weights);
        expect(w.reduce((a: number, b: number) => a + b, 0)).to.equal(65536);
      }
    });

    it("should reproduce the vector aggregate bit for bit", function () {
      for (const c of v.aggregateCases) {
        const out = aggregateExact(toInt32(c.base), c.deltas.map(toInt32), c.weights);
        expect(Array.from(out, String)).to.deep.equal(c.result);
      }
    });

    it("should agree with a BigInt floor-division reference on extreme values", function () {
      const base = Int32Array.from([2 ** 31 - 1, -(2 ** 31), 0, 5]);
      const deltas = [Int32Array.from([-(2 ** 31), 2 ** 31 - 1, -1, 7]), Int32Array.from([-1, 1, -1, -7])];
      const weights = [65535, 1];
      const out = aggregateExact(base, deltas, weights);
      for (let j = 0; j < base.length; j++) {
        const s = BigInt(weights[0]) * BigInt(deltas[0][j]) + BigInt(weights[1]) * BigInt(deltas[1][j]);
        const q = s >= 0n ? s / 65536n : -((-s + 65535n) / 65536n);
        expect(out[j], `coordinate ${j}`).to.equal(Number(BigInt(base[j]) + q));
      }
    });

    it("should refuse weights that do not sum to 65536, zero sample counts and length mismatches", function () {
      const base = new Int32Array(3);
      expectCode(() => aggregateExact(base, [base, base], [1, 2]), ErrorCode.BAD_WEIGHTS);
      expectCode(() => aggregateExact(base, [base], [65536, 0]), ErrorCode.BAD_WEIGHTS);
      expectCode(() => aggregateExact(base, [new Int32Array(2)], [65536]), ErrorCode.VECTOR_LENGTH_MISMATCH);
      expectCode(() => integerWeights([3, 0]), ErrorCode.BAD_SAMPLE_COUNT);
      expectCode(() => integerWeights([]), ErrorCode.EMPTY_INPUT);
    });

    it("should reproduce the vector ByzFed rounds: kept set, reputations, weights and aggregate", function () {
      for (const c of v.byzFedCases) {
        const deltas = c.deltas.map(toInt32);
        const r = byzFedExactRound(
          deltas,
          deltas.map((_: Int32Array, i: number) => `participant ${i}`),
          c.reputationsBefore,
          { tauMicros: BigInt(c.tauMicros), reputationDecayMicros: BigInt(c.reputationDecayMicros) },
        );
        expect(r.kept, c.name).to.deep.equal(c.kept);
        expect(r.fallback, c.name).to.equal(c.fallback);
        expect(r.reputationsAfter, c.name).to.deep.equal(c.reputationsAfter);
        expect(r.weights, c.name).to.deep.equal(c.weights);
        expect(Array.from(aggregateExact(toInt32(c.base), deltas, r.weights), String), c.name).to.deep.equal(c.result);
      }
    });

    it("should give a dropped update weight 0 and decay its reputation, and keep integer reputations within 1 µ of the float path", function () {
      const c = v.byzFedCases[0];
      const dropped = c.deltas.length - 1; // the boosted sign flip of update 0
      expect(c.kept).to.not.include(dropped);
      expect(c.weights[dropped]).to.equal(0);
      const alpha = Number(c.reputationDecayMicros) / 1e6;
      for (const [i, before] of c.reputationsBefore.entries()) {
        const float = 1e6 * (alpha * (before / 1e6) + (1 - alpha) * (c.kept.includes(i) ? 1 : 0));
        expect(Math.abs(c.reputationsAfter[i] - float), `participant ${i}`).to.be.below(1);
      }
    });

    it("should refuse ByzFed parameters and reputations outside their domain", function () {
      const d = [new Int32Array([1, 2]), new Int32Array([2, 1])];
      expectCode(
        () => byzFedExactRound(d, ["a", "b"], [1e6], { tauMicros: 3e6, reputationDecayMicros: 9e5 }),
        ErrorCode.BAD_PARTICIPANT_SET,
      );
      expectCode(() => byzFedExactRound(d, ["a", "b"], [1e6, -1], { tauMicros: 3e6, reputationDecayMicros: 9e5 }), ErrorCode.INPUT_INVALID);
      expectCode(() => byzFedExactRound(d, ["a", "b"], [1e6, 1e6], { tauMicros: 3e6, reputationDecayMicros: 0 }), ErrorCode.INPUT_INVALID);
      expectCode(
        () => byzFedExactRound(d, ["a", "a"], [1e6, 1e6], { tauMicros: 3e6, reputationDecayMicros: 9e5 }),
        ErrorCode.BAD_PARTICIPANT_SET,
      );
    });
  });

  describe("participants and commitment (§4-5)", function () {
    const v = readVector("commitment.json");

    it("should sort participants and reproduce participantsRoot", function () {
      expect(sortParticipants(v.participants.unsorted)).to.deep.equal(v.participants.sorted);
      expect(participantsRoot(v.participants.sorted)).to.equal(v.participants.participantsRoot);
      expect(participantsRoot([])).to.equal(v.participants.emptyRoot);
    });

    it("should refuse an unsorted or duplicated participant list", function () {
      expectCode(() => participantsRoot([...v.participants.sorted].reverse()), ErrorCode.BAD_PARTICIPANT_SET);
      expectCode(() => sortParticipants([v.participants.sorted[0], v.participants.sorted[0]]), ErrorCode.BAD_PARTICIPANT_SET);
    });

    it("should reproduce updatesDigest, h_t and the challenge", function () {
      expect(updatesDigest(v.participants.sorted, v.updates.updateRoots, v.updates.weights)).to.equal(v.updates.updatesDigest);
      expect(roundCommitment(v.commitment)).to.equal(v.commitment.commitment);
      const seed = challengeSeed(v.challenge.commitment, v.challenge.nextBlockHash);
      expect(seed).to.equal(v.challenge.seed);
      expect(challengeChunk(seed, v.challenge.chunks)).to.equal(v.challenge.chunkIndex);
    });

    it("should give a different h_t for a different round", function () {
      expect(roundCommitment({ ...v.commitment, round: 8 })).to.not.equal(v.commitment.commitment);
    });
  });

  describe("attestation (§6)", function () {
    const v = readVector("attestation.json");
    const message = Object.fromEntries(
      Object.entries(v.message).map(([k, x]) => [k, typeof x === "string" && !x.startsWith("0x") ? BigInt(x) : x]),
    ) as unknown as Attestation;
    const domain = { ...v.domain, chainId: BigInt(v.domain.chainId) };

    it("should reproduce the digest and recover the signer", function () {
      expect(attestationDigest(domain, message)).to.equal(v.digest);
      expect(recoverAttester(domain, message, v.signature)).to.equal(v.signer);
    });

    it("should not recover the signer for another round, chain or contract", function () {
      expect(recoverAttester(domain, { ...message, round: message.round + 1n }, v.signature)).to.not.equal(v.signer);
      expect(recoverAttester({ ...domain, chainId: 1n }, message, v.signature)).to.not.equal(v.signer);
      expect(recoverAttester({ ...domain, verifyingContract: Wallet.createRandom().address }, message, v.signature)).to.not.equal(v.signer);
    });
  });

  describe("accounting digest (§12)", function () {
    const v = readVector("commitment.json");

    it("should reproduce the accounting digest, including the extreme fixed-point values", function () {
      expect(accountingDigest(v.participants.sorted, v.accounting.epsilonMicros.map(BigInt), v.accounting.reputationMicros)).to.equal(
        v.accounting.accountingDigest,
      );
    });

    it("should give another digest when one reputation changes", function () {
      const reps = [...v.accounting.reputationMicros];
      reps[3] += 1;
      expect(accountingDigest(v.participants.sorted, v.accounting.epsilonMicros.map(BigInt), reps)).to.not.equal(
        v.accounting.accountingDigest,
      );
    });
  });

  describe("selection of S_t (§10)", function () {
    const v = readVector("selection.json");

    it("should reproduce the selection seed", function () {
      const i = v.seedInput;
      expect(selectionSeed(BigInt(i.federationId), BigInt(i.round), i.parentCommitment, BigInt(i.prevrandao))).to.equal(i.seed);
    });

    it("should reproduce every pivot and shuffled index, a permutation of the roster", function () {
      for (const c of v.cases) {
        const pivots = shufflePivots(c.seed, c.count);
        expect(pivots.map(String)).to.deep.equal(c.pivots);
        const shuffled = Array.from({ length: c.count }, (_, i) => shuffledIndex(i, c.count, c.seed, pivots));
        expect(shuffled).to.deep.equal(c.shuffled);
        expect([...shuffled].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: c.count }, (_, i) => i));
        const selected = shuffled.flatMap((p: number, i: number) => (isSelected(i, c.count, c.k, c.seed, pivots) ? [i] : []));
        expect(selected).to.deep.equal(c.selectedIndices);
        expect(selected.length).to.equal(Math.min(c.k, c.count));
      }
    });

    it("should reproduce the selection bound and S_t with revoked participants", function () {
      expect(v.revokedCases.length).to.equal(12);
      for (const c of v.revokedCases) {
        const revoked = new Set<number>(c.revoked);
        const pivots = shufflePivots(c.seed, c.count);
        expect(selectionBound(c.count, c.k, c.seed, c.revoked, pivots)).to.equal(c.bound);
        const selected = Array.from({ length: c.count }, (_, i) => i).filter(
          (i) => !revoked.has(i) && isSelected(i, c.count, c.bound, c.seed, pivots),
        );
        expect(selected).to.deep.equal(c.selectedIndices);
      }
    });

    it("should select the first K non-revoked participants in shuffle order, never a revoked one (issue 16)", function () {
      const roster = Array.from({ length: 40 }, (_, i) => getAddress("0x" + (i + 1).toString(16).padStart(40, "0")));
      for (let trial = 0; trial < 30; trial++) {
        const seed = keccak256(toUtf8Bytes(`dsain revoked selection ${trial}`));
        const size = 5 + (trial % 36);
        const k = 1 + (trial % 7);
        const revoked = new Set(Array.from({ length: trial % 9 }, (_, j) => (trial * 7 + j * 13) % size));
        const pivots = shufflePivots(seed, size);
        const position = Array.from({ length: size }, (_, i) => shuffledIndex(i, size, seed, pivots));
        const byPosition = Array.from({ length: size }, (_, i) => i).sort((a, b) => position[a] - position[b]);
        const expected = byPosition.filter((i) => !revoked.has(i)).slice(0, k);
        const chosen = selectParticipants(roster, size, k, seed, revoked);
        expect(chosen).to.deep.equal([...expected.map((i) => roster[i])].sort((a, b) => (BigInt(a) < BigInt(b) ? -1 : 1)));
        for (const i of revoked) expect(chosen).to.not.include(roster[i]);
      }
    });

    it("should reproduce S_t of a roster, sorted as the protocol orders it", function () {
      const r = v.roster;
      expect(selectParticipants(r.addresses, r.rosterSize, r.k, r.seed)).to.deep.equal(r.selected);
      expect(selectParticipants(r.addresses, 0, r.k, r.seed)).to.deep.equal([]);
    });

    it("should refuse an index outside the roster, an empty roster and a snapshot larger than the roster", function () {
      expectCode(() => shuffledIndex(10, 10, v.seedInput.seed), ErrorCode.INPUT_INVALID);
      expectCode(() => shuffledIndex(-1, 10, v.seedInput.seed), ErrorCode.INPUT_INVALID);
      expectCode(() => shufflePivots(v.seedInput.seed, 0), ErrorCode.INPUT_INVALID);
      expectCode(() => selectParticipants(v.roster.addresses, 11, 4, v.seedInput.seed), ErrorCode.INPUT_INVALID);
      expect(isSelected(10, 10, 4, v.seedInput.seed)).to.equal(false);
    });
  });

  describe("committee quorum (§12)", function () {
    const v = readVector("quorum.json");
    const domain = { ...v.domain, chainId: BigInt(v.domain.chainId) };
    const big = (m: Record<string, string>) =>
      Object.fromEntries(Object.entries(m).map(([k, x]) => [k, x.startsWith("0x") ? x : BigInt(x)])) as any;

    it("should spell the type strings the vectors hash", function () {
      expect(v.roundRecord.type).to.equal(ROUND_RECORD_TYPE);
      expect(v.rollback.type).to.equal(ROLLBACK_TYPE);
    });

    it("should reproduce the round-record digest and recover the committee member", function () {
      const m = big(v.roundRecord.message);
      expect(roundRecordDigest(domain, m)).to.equal(v.roundRecord.digest);
      expect(recoverRoundRecordSigner(domain, m, v.roundRecord.signature)).to.equal(v.signer);
      expect(recoverRoundRecordSigner(domain, { ...m, parentRound: m.parentRound + 1n }, v.roundRecord.signature)).to.not.equal(v.signer);
    });

    it("should reproduce the rollback digest and recover the committee member", function () {
      const m = big(v.rollback.message);
      expect(reasonHash(v.rollback.reason)).to.equal(m.reasonHash);
      expect(rollbackDigest(domain, m)).to.equal(v.rollback.digest);
      expect(recoverRollbackSigner(domain, m, v.rollback.signature)).to.equal(v.signer);
      expect(recoverRollbackSigner(domain, { ...m, head: m.head + 1n }, v.rollback.signature)).to.not.equal(v.signer);
    });
  });

  describe("record entries (§11)", function () {
    const v = readVector("record.json");
    const entries: UpdateEntry[] = v.entries.map((e: Record<string, string | number>) => ({
      ...e,
      sampleCount: BigInt(e.sampleCount),
      epsilonMicros: BigInt(e.epsilonMicros),
    }));

    it("should pack the vector's entries to its bytes and back, field extremes and a direct entry included", function () {
      expect(RECORD_ENTRY_SIZE).to.equal(v.entrySize);
      expect(encodeRecordEntries(entries)).to.equal(v.bytes);
      expect(getBytes(v.bytes).length).to.equal(entries.length * RECORD_ENTRY_SIZE);
      expect(decodeRecordEntries(v.bytes)).to.deep.equal(entries);
      // A direct entry's signature is 65 zero bytes on the wire.
      expect(v.bytes.slice(2 + 2 * (2 * RECORD_ENTRY_SIZE - 65), 2 + 2 * 2 * RECORD_ENTRY_SIZE)).to.equal("00".repeat(65));
      expect(encodeRecordEntries([])).to.equal("0x");
      expect(decodeRecordEntries("0x")).to.deep.equal([]);
    });

    it("should give the columns' digests of the vector", function () {
      const participants = entries.map((e) => e.participant);
      expect(participantsRoot(participants)).to.equal(v.participantsRoot);
      expect(
        updatesDigest(
          participants,
          entries.map((e) => e.updateRoot),
          entries.map((e) => e.weight),
        ),
      ).to.equal(v.updatesDigest);
      expect(
        accountingDigest(
          participants,
          entries.map((e) => e.epsilonMicros),
          entries.map((e) => e.reputationMicros),
        ),
      ).to.equal(v.accountingDigest);
    });

    it("should refuse a field that does not fit, a signature of another length and bytes that are no whole entries", function () {
      const e = entries[0];
      const refused: [Partial<UpdateEntry>, ErrorCode, string][] = [
        [
          { sampleCount: 2n ** 64n },
          ErrorCode.ENCODING_OUT_OF_RANGE,
          "record entry 0: sampleCount 18446744073709551616 does not fit 64 unsigned bits",
        ],
        [{ weight: 2 ** 32 }, ErrorCode.ENCODING_OUT_OF_RANGE, "record entry 0: weight 4294967296 does not fit 32 unsigned bits"],
        [{ epsilonMicros: -1n }, ErrorCode.ENCODING_OUT_OF_RANGE, "record entry 0: epsilonMicros -1 does not fit 64 unsigned bits"],
        [{ reputationMicros: 2 ** 32 }, ErrorCode.ENCODING_OUT_OF_RANGE, "record entry 0: reputationMicros 4294967296 does not fit"],
        [{ signature: e.signature + "00" }, ErrorCode.INPUT_INVALID, "record entry 0: signature must be 65 bytes of hex"],
        [{ signature: "0x" + "00".repeat(65) }, ErrorCode.INPUT_INVALID, 'an all-zero signature is no signature; pass "0x"'],
        [{ updateRoot: "0x1234" }, ErrorCode.INPUT_INVALID, "record entry 0: updateRoot must be 32 bytes of hex"],
        [{ participant: "0x1234" }, ErrorCode.INPUT_INVALID, 'record entry 0: participant "0x1234" is not an address'],
      ];
      for (const [change, code, message] of refused) {
        const err = expectCode(() => encodeRecordEntries([{ ...e, ...change }]), code);
        expect(err.message).to.contain(message);
      }
      const short = expectCode(() => decodeRecordEntries(v.bytes.slice(0, -2), "round 7"), ErrorCode.DATA_MALFORMED);
      expect(short.message).to.equal(`round 7: ${4 * RECORD_ENTRY_SIZE - 1} bytes of entries is not a whole number of 141-byte entries`);
      expectCode(() => decodeRecordEntries("0xzz"), ErrorCode.DATA_MALFORMED);
    });
  });

  describe("checkpoint (§7)", function () {
    const v = readVector("checkpoint.json");

    it("should encode the vector checkpoint to its reference bytes and back", function () {
      const bytes = encodeCheckpoint({ round: v.round, modelId: v.modelId, tensors: v.tensors, values: toInt32(v.values) });
      expect(hexlify(bytes)).to.equal(v.bytes);
      const back = decodeCheckpoint(getBytes(v.bytes));
      expect(back.round).to.equal(v.round);
      expect(back.tensors).to.deep.equal(v.tensors);
      expect(Array.from(back.values, String)).to.deep.equal(v.values);
    });

    it("should give the vector files the vector CIDs (pinned UnixFS parameters)", async function () {
      expect((await checkpointCid(getBytes(v.bytes))).toString()).to.equal(v.cid);
      expect((await checkpointCid(getBytes(v.withUpdates.bytes))).toString()).to.equal(v.withUpdates.cid);
      expect((await checkpointCid(getBytes(v.update.bytes))).toString()).to.equal(v.update.cid);
      expect(v.withUpdates.updates[0].cid).to.equal(v.update.cid);
    });

    it("should encode a version-2 checkpoint listing its published updates to its reference bytes and back", function () {
      const w = v.withUpdates;
      const bytes = encodeCheckpoint({
        round: w.round,
        modelId: w.modelId,
        tensors: v.tensors,
        values: toInt32(w.values),
        updates: w.updates,
      });
      expect(hexlify(bytes)).to.equal(w.bytes);
      const back = decodeCheckpoint(bytes);
      expect(back.updates).to.deep.equal(w.updates);
      expect(Array.from(back.values, String)).to.deep.equal(w.values);
      expect(decodeCheckpoint(getBytes(v.bytes)).updates).to.equal(undefined); // version 1: no list
    });

    it("should encode an update file to its reference bytes and back", function () {
      const u = v.update;
      const bytes = encodeUpdateFile({
        round: u.round,
        participant: u.participant,
        modelId: u.modelId,
        tensors: v.tensors,
        values: toInt32(u.values),
      });
      expect(hexlify(bytes)).to.equal(u.bytes);
      const back = decodeUpdateFile(bytes);
      expect(back.participant).to.equal(u.participant);
      expect(back.round).to.equal(u.round);
      expect(Array.from(back.values, String)).to.deep.equal(u.values);
    });

    it("should refuse an update file read as a checkpoint and the reverse, and malformed update lists", function () {
      expectCode(() => decodeCheckpoint(getBytes(v.update.bytes)), ErrorCode.CHECKPOINT_MALFORMED);
      expectCode(() => decodeUpdateFile(getBytes(v.bytes)), ErrorCode.CHECKPOINT_MALFORMED);
      const base = { round: 1, modelId: "m", tensors: v.tensors, values: toInt32(v.values) };
      const good = v.withUpdates.updates[0];
      expectCode(
        () => encodeCheckpoint({ ...base, updates: [{ ...good, participant: good.participant.toLowerCase() }] }),
        ErrorCode.INPUT_INVALID,
      );
      expectCode(() => encodeCheckpoint({ ...base, updates: [{ ...good, cid: good.cid.toUpperCase() }] }), ErrorCode.CID_UNSUPPORTED);
      expectCode(
        () => encodeUpdateFile({ round: 1, participant: "0x12", modelId: "m", tensors: v.tensors, values: toInt32(v.values) }),
        ErrorCode.INPUT_INVALID,
      );
      // A version-2 header whose list is tampered with (lower-case address) no longer parses.
      const text = new TextDecoder().decode(getBytes(v.withUpdates.bytes));
      const tampered = new TextEncoder().encode(text.replace(good.participant, good.participant.toLowerCase()));
      expectCode(() => decodeCheckpoint(tampered), ErrorCode.CHECKPOINT_MALFORMED);
    });

    it("should refuse a wrong magic, a truncated payload and a shape that does not match", function () {
      const bytes = getBytes(v.bytes);
      const badMagic = bytes.slice();
      badMagic[0] ^= 1;
      expectCode(() => decodeCheckpoint(badMagic), ErrorCode.CHECKPOINT_MALFORMED);
      expectCode(() => decodeCheckpoint(bytes.slice(0, bytes.length - 1)), ErrorCode.CHECKPOINT_MALFORMED);
      expectCode(() => decodeCheckpoint(bytes.slice(0, 5)), ErrorCode.CHECKPOINT_MALFORMED);
      expectCode(
        () => encodeCheckpoint({ round: 0, modelId: "m", tensors: [{ name: "x", shape: [3] }], values: new Int32Array(2) }),
        ErrorCode.VECTOR_LENGTH_MISMATCH,
      );
    });
  });

  describe("vectors files", function () {
    it("should be exactly what scripts/gen-vectors.ts writes today", async function () {
      const files = await buildVectors();
      for (const [name, value] of Object.entries(files)) {
        expect(readFileSync(path.join(VECTORS_DIR, name), "utf8"), `test/vectors/${name} is stale: run npm run generate:vectors`).to.equal(
          serialise(value),
        );
      }
    });
  });
});
