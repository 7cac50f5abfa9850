// Writes test/vectors/*.json: the shared protocol vectors that the TypeScript, Solidity and
// circuit test suites all read (docs/protocol.md). Deterministic: same code, same bytes.
import { writeFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { Wallet, keccak256, toUtf8Bytes, hexlify, getBytes, TypedDataEncoder } from "ethers";
import {
  ATTESTATION_TYPE,
  ATTESTATION_TYPES,
  ROLLBACK_TYPE,
  ROLLBACK_TYPES,
  ROUND_RECORD_TYPE,
  ROUND_RECORD_TYPES,
  accountingDigest,
  aggregateExact,
  attestationDigest,
  attestationDomain,
  challengeChunk,
  challengeSeed,
  encodeCheckpoint,
  encodeUpdateFile,
  encodeValue,
  encodedDelta,
  fieldToBytes32,
  integerWeights,
  encodeRecordEntries,
  participantsRoot,
  RECORD_ENTRY_SIZE,
  reasonHash,
  rollbackDigest,
  roundCommitment,
  roundRecordDigest,
  selectParticipants,
  selectionSeed,
  selectionBound,
  shuffledIndex,
  shufflePivots,
  sortParticipants,
  updatesDigest,
  vectorTree,
  leafElements,
  INT_MIN,
  INT_MAX,
  PROTOCOL_VERSION,
  type Attestation,
  type RollbackMessage,
  type RoundRecordMessage,
  type UpdateEntry,
} from "../aggregator/protocol/index.js";
import { checkpointCid } from "../aggregator/protocol/cid.js";
import { byzFedExactRound } from "../aggregator/maths/robust/byzfed-exact.js";

export const VECTORS_DIR = path.resolve(import.meta.dirname, "..", "test", "vectors");

/** A deterministic int32 sequence (an LCG), so vectors need no stored randomness. */
function lcgInts(seed: number, n: number, span: number): Int32Array {
  const out = new Int32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s % (2 * span + 1)) - span;
  }
  return out;
}

const ints = (a: Int32Array) => Array.from(a, String);

function testWallet(label: string): Wallet {
  return new Wallet(keccak256(toUtf8Bytes(`dsain test key: ${label}`)));
}

export async function buildVectors(): Promise<Record<string, unknown>> {
  const meta = (description: string) => ({
    generator: "scripts/gen-vectors.ts",
    spec: "docs/protocol.md",
    protocolVersion: PROTOCOL_VERSION,
    description,
  });

  // §1 fixed point: ties, negatives, extremes.
  const fpValues = [0, 1, -1, 0.5, 1.5 / 65536, 2.5 / 65536, -2.5 / 65536, 0.1, -0.1, 3.14159, 32767.99998474121, -32768, 1e-9];
  const fixedPoint = {
    meta: meta("encodeValue: q = round_half_even(w * 2^16) within int32; `refused` values must raise"),
    cases: fpValues.map((v) => ({ value: v, encoded: String(encodeValue(v)) })),
    refused: [
      { value: "32768", reason: "out of int32" },
      { value: "-32768.00001", reason: "out of int32" },
      { value: "NaN", reason: "not finite" },
      { value: "Infinity", reason: "not finite" },
    ],
  };

  // §2 vector roots, various lengths (one coordinate, a partial element, one element, a partial
  // leaf, one leaf, one past it, the demo model's 212, three leaves, five leaves), and int32 extremes.
  const rootCases = [];
  for (const [seed, length] of [
    [1, 1],
    [2, 6],
    [3, 7],
    [4, 40],
    [5, 112],
    [6, 113],
    [7, 212],
    [8, 300],
    [9, 500],
  ] as const) {
    const values = lcgInts(seed, length, 2 ** 31 - 1);
    if (length === 113) values.set([INT_MIN, INT_MAX, 0, -1, 1, INT_MIN, INT_MAX], 0);
    const tree = await vectorTree(values);
    rootCases.push({
      length,
      values: ints(values),
      depth: tree.depth,
      firstLeafElements: leafElements(values, 0).map(String),
      leaves: tree.leaves.map(fieldToBytes32),
      root: fieldToBytes32(tree.root),
    });
  }
  const vectorRoots = {
    meta: meta(
      "vectorRoot (protocol version 2): 7 int32 coordinates packed per field element (u = q + 2^31, first coordinate lowest), Poseidon16 leaves over 16 elements (112 coordinates), Poseidon2 binary tree",
    ),
    cases: rootCases,
  };

  // §3 weights and exact aggregation.
  const base = lcgInts(11, 40, 100_000);
  const locals = [12, 13, 14, 15].map((s) => lcgInts(s, 40, 100_000));
  const deltas = locals.map((l) => encodedDelta(l, base));
  const sampleCounts = [120, 80, 333, 1];
  const weights = integerWeights(sampleCounts);
  const aggregation = {
    meta: meta(
      "integerWeights (Hamilton, total 65536) and aggregateExact: q' = q + floor(sum a_i delta_i / 65536); byzFedCases: ByzFed rounds on the exact path",
    ),
    weightCases: [[1], [1, 1], [1, 1, 1], [120, 80, 333, 1], [7, 7, 7, 7, 7, 7, 7], [1, 2 ** 40]].map((n) => ({
      sampleCounts: n.map(String),
      weights: integerWeights(n),
    })),
    aggregateCases: [
      {
        base: ints(base),
        deltas: deltas.map(ints),
        sampleCounts: sampleCounts.map(String),
        weights,
        result: ints(aggregateExact(base, deltas, weights)),
      },
    ],
    byzFedCases: byzFedVectors(),
  };

  // §4-5 participants, commitment, challenge.
  const wallets = ["alice", "bob", "carol", "dave"].map(testWallet);
  const sorted = sortParticipants(wallets.map((w) => w.address));
  const pRoot = participantsRoot(sorted);
  const updateRoots = rootCases.slice(1, 5).map((c) => c.root);
  const commitmentInput = {
    modelRoot: rootCases[4].root,
    cidCodec: 0x70,
    cidDigest: keccak256(toUtf8Bytes("checkpoint bytes stand-in")),
    participantsRoot: pRoot,
    round: 7,
  };
  const commitment = roundCommitment(commitmentInput);
  const nextBlockHash = keccak256(toUtf8Bytes("block after the attesting block stand-in"));
  const seed = challengeSeed(commitment, nextBlockHash);
  const commitmentVectors = {
    meta: meta("participantsRoot, updatesDigest, roundCommitment h_t, challengeSeed/challengeChunk"),
    participants: { unsorted: wallets.map((w) => w.address), sorted, participantsRoot: pRoot, emptyRoot: participantsRoot([]) },
    updates: {
      updateRoots,
      weights: integerWeights([1, 2, 3, 4]),
      updatesDigest: updatesDigest(sorted, updateRoots, integerWeights([1, 2, 3, 4])),
    },
    commitment: { ...commitmentInput, commitment },
    challenge: { commitment, nextBlockHash, seed, chunks: 14, chunkIndex: challengeChunk(seed, 14) },
    accounting: {
      epsilonMicros: ["250000", "0", "18446744073709551615", "1"],
      reputationMicros: [1_000_000, 0, 4294967295, 123456],
      accountingDigest: accountingDigest(sorted, [250_000n, 0n, 2n ** 64n - 1n, 1n], [1_000_000, 0, 4294967295, 123456]),
    },
  };

  const strings = (m: object) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v]));

  // §6 attestation.
  const signer = wallets[0];
  const domain = attestationDomain(31337n, "0x5FbDB2315678afecb367f032d93F642f64180aa3");
  const message: Attestation = {
    federationId: 1n,
    round: 3n,
    baseModelRoot: rootCases[2].root,
    updateRoot: rootCases[3].root,
    sampleCount: 250n,
    dpEpsilonMicros: 1_500_000n,
    dpDeltaPicos: 10_000_000n,
    dpClipMicros: 1_000_000n,
    dpNoiseMicros: 1_100_000n,
  };
  const attestation = {
    meta: meta("EIP-712 Attestation: type string, typehash, domain separator, struct hash, digest, a signature"),
    type: ATTESTATION_TYPE,
    typeHash: keccak256(toUtf8Bytes(ATTESTATION_TYPE)),
    domain: { name: domain.name, version: domain.version, chainId: "31337", verifyingContract: domain.verifyingContract },
    domainSeparator: TypedDataEncoder.hashDomain(domain),
    message: Object.fromEntries(Object.entries(message).map(([k, v]) => [k, typeof v === "bigint" ? v.toString() : v])),
    structHash: TypedDataEncoder.from(ATTESTATION_TYPES).hash(message),
    digest: attestationDigest(domain, message),
    signer: signer.address,
    signature: await signer.signTypedData(domain, ATTESTATION_TYPES, message),
  };

  // §11 a record's packed entries: field extremes, an inline and a direct (all-zero) signature.
  const recordEpsilons = [250_000n, 0n, 2n ** 64n - 1n, 1n];
  const recordReputations = [1_000_000, 0, 4294967295, 123456];
  const recordWeights = integerWeights([1, 2, 3, 4]);
  const recordEntries: UpdateEntry[] = sorted.map((participant, i) => ({
    participant,
    updateRoot: updateRoots[i],
    sampleCount: [250n, 1n, 2n ** 64n - 1n, 0n][i],
    weight: recordWeights[i],
    epsilonMicros: recordEpsilons[i],
    reputationMicros: recordReputations[i],
    signature: i === 1 ? "0x" : attestation.signature,
  }));
  const record = {
    meta: meta("A round record's packed entries (141 bytes each) and the digests over their columns"),
    entrySize: RECORD_ENTRY_SIZE,
    entries: recordEntries.map((e) => strings(e)),
    bytes: encodeRecordEntries(recordEntries),
    participantsRoot: pRoot,
    updatesDigest: updatesDigest(sorted, updateRoots, recordWeights),
    accountingDigest: accountingDigest(sorted, recordEpsilons, recordReputations),
  };

  // §10 selection: the seed, the shuffle and S_t, for a roster below K, one of 10 and one of 300
  // (positions past 255 read the second word of each round's bit source).
  const selSeed = selectionSeed(3n, 5n, commitment, 987654321n);
  const roster = Array.from({ length: 10 }, (_, i) => testWallet(`roster ${i}`).address);
  const selectionCases = [3, 10, 300].map((count) => {
    const seedFor = count === 300 ? selectionSeed(3n, 6n, commitment, 1n) : selSeed;
    const pivots = shufflePivots(seedFor, count);
    const shuffled = Array.from({ length: count }, (_, i) => shuffledIndex(i, count, seedFor, pivots));
    return {
      seed: seedFor,
      count,
      k: 4,
      pivots: pivots.map(String),
      shuffled,
      selectedIndices: shuffled.flatMap((p, i) => (p < 4 ? [i] : [])),
    };
  });
  // With revocations: the bound T and S_t as the first K non-revoked in shuffle order. The revoked
  // sets take some of the first positions (T grows past each), one past T (no effect), and all but
  // fewer than K (S_t is every non-revoked member); a roster of at most K ignores T (it is the roster).
  const byPosition = (shuffled: number[]) =>
    shuffled
      .map((p, i) => [p, i])
      .sort((a, b) => a[0] - b[0])
      .map(([, i]) => i);
  const revokedCases = selectionCases.flatMap((c) => {
    const order = byPosition(c.shuffled);
    const sets = [
      [order[0]],
      [order[1], order[Math.min(c.count - 1, 3)]],
      [order[Math.min(c.count - 1, 6)]],
      // Fewer than K left (a small roster), or the first 20 positions (the large one).
      c.count <= 10 ? order.slice(0, c.count - 2) : order.slice(0, 20),
    ];
    return sets.map((revoked) => {
      // From the definition (§10), not the implementation: S_t is the first K non-revoked in shuffle
      // order, T the position after the K-th of them (the snapshot when it has fewer, or <= K members).
      const out = new Set(revoked);
      const chosen = order.filter((i) => !out.has(i)).slice(0, c.k);
      const bound = c.count <= c.k || chosen.length < c.k ? c.count : c.shuffled[chosen[c.k - 1]] + 1;
      if (selectionBound(c.count, c.k, c.seed, revoked) !== bound) {
        throw new Error(`selectionBound disagrees with the definition of T (${c.count} members, revoked ${revoked})`);
      }
      return { seed: c.seed, count: c.count, k: c.k, revoked, bound, selectedIndices: [...chosen].sort((a, b) => a - b) };
    });
  });
  const selection = {
    meta: meta(
      "selectionSeed, shufflePivots, shuffledIndex (swap-or-not, 16 rounds), S_t of a roster snapshot, the selection bound T with revoked participants",
    ),
    seedInput: { federationId: "3", round: "5", parentCommitment: commitment, prevrandao: "987654321", seed: selSeed },
    cases: selectionCases,
    revokedCases,
    roster: { addresses: roster, rosterSize: 10, k: 4, seed: selSeed, selected: selectParticipants(roster, 10, 4, selSeed) },
  };

  // §12 committee quorum: the round record and rollback typed data.
  const recordMessage: RoundRecordMessage = {
    federationId: 1n,
    round: 7n,
    parentRound: 6n,
    commitment,
    updatesDigest: commitmentVectors.updates.updatesDigest,
    accountingDigest: commitmentVectors.accounting.accountingDigest,
  };
  const rollbackMessage: RollbackMessage = {
    federationId: 1n,
    toRound: 4n,
    head: 7n,
    reasonHash: reasonHash("poisoned update in round 5"),
  };
  const aggregatorKey = testWallet("aggregator");
  const quorum = {
    meta: meta("EIP-712 RoundRecord and Rollback signed by the aggregator committee: typehashes, struct hashes, digests, signatures"),
    domain: { name: domain.name, version: domain.version, chainId: "31337", verifyingContract: domain.verifyingContract },
    domainSeparator: TypedDataEncoder.hashDomain(domain),
    signer: aggregatorKey.address,
    roundRecord: {
      type: ROUND_RECORD_TYPE,
      typeHash: keccak256(toUtf8Bytes(ROUND_RECORD_TYPE)),
      message: strings(recordMessage),
      structHash: TypedDataEncoder.from(ROUND_RECORD_TYPES).hash(recordMessage),
      digest: roundRecordDigest(domain, recordMessage),
      signature: await aggregatorKey.signTypedData(domain, ROUND_RECORD_TYPES, recordMessage),
    },
    rollback: {
      type: ROLLBACK_TYPE,
      typeHash: keccak256(toUtf8Bytes(ROLLBACK_TYPE)),
      reason: "poisoned update in round 5",
      message: strings(rollbackMessage),
      structHash: TypedDataEncoder.from(ROLLBACK_TYPES).hash(rollbackMessage),
      digest: rollbackDigest(domain, rollbackMessage),
      signature: await aggregatorKey.signTypedData(domain, ROLLBACK_TYPES, rollbackMessage),
    },
  };

  // §7 checkpoint bytes.
  const ckValues = lcgInts(21, 6, 70_000);
  const checkpoint = {
    meta: meta(
      "DSAINCK1 files: a version-1 checkpoint (top level), a version-2 checkpoint listing its published updates (withUpdates) and an update file (update); CIDs with the pinned UnixFS parameters",
    ),
    round: 2,
    modelId: "vector-model",
    tensors: [
      { name: "dense/kernel", shape: [2, 2] },
      { name: "dense/bias", shape: [2] },
    ],
    values: ints(ckValues),
    bytes: hexlify(
      encodeCheckpoint({
        round: 2,
        modelId: "vector-model",
        tensors: [
          { name: "dense/kernel", shape: [2, 2] },
          { name: "dense/bias", shape: [2] },
        ],
        values: ckValues,
      }),
    ),
  };

  // §7 a version-2 checkpoint listing its published updates, and one update file.
  const ckTensors = [
    { name: "dense/kernel", shape: [2, 2] },
    { name: "dense/bias", shape: [2] },
  ];
  const updateValues = lcgInts(22, 6, 70_000);
  const updateBytes = encodeUpdateFile({
    round: 2,
    participant: sorted[0],
    modelId: "vector-model",
    tensors: ckTensors,
    values: updateValues,
  });
  const updateCid = (await checkpointCid(updateBytes)).toString();
  const otherCid = (
    await checkpointCid(
      encodeUpdateFile({ round: 2, participant: sorted[1], modelId: "vector-model", tensors: ckTensors, values: lcgInts(23, 6, 70_000) }),
    )
  ).toString();
  const listed = [
    { participant: sorted[0], cid: updateCid },
    { participant: sorted[1], cid: otherCid },
  ];
  const withUpdatesBytes = encodeCheckpoint({ round: 2, modelId: "vector-model", tensors: ckTensors, values: ckValues, updates: listed });
  Object.assign(checkpoint, {
    cid: (await checkpointCid(getBytes(checkpoint.bytes))).toString(),
    withUpdates: {
      round: 2,
      modelId: "vector-model",
      values: ints(ckValues),
      updates: listed,
      bytes: hexlify(withUpdatesBytes),
      cid: (await checkpointCid(withUpdatesBytes)).toString(),
    },
    update: {
      round: 2,
      participant: sorted[0],
      modelId: "vector-model",
      values: ints(updateValues),
      bytes: hexlify(updateBytes),
      cid: updateCid,
    },
  });

  return {
    "fixed-point.json": fixedPoint,
    "vector-roots.json": vectorRoots,
    "aggregation.json": aggregation,
    "commitment.json": commitmentVectors,
    "attestation.json": attestation,
    "selection.json": selection,
    "quorum.json": quorum,
    "record.json": record,
    "checkpoint.json": checkpoint,
  };
}

/** §3 ByzFed rounds: the float path's kept set, then integer reputations and weights. */
function byzFedVectors() {
  const model = lcgInts(31, 40, 50_000);
  const honest = [32, 33, 34, 35].map((seed) => encodedDelta(lcgInts(seed, 40, 3_000), new Int32Array(40)));
  const outlier = honest[0].map((x) => -5 * x);
  const cases = [
    {
      name: "one outlier dropped",
      deltas: [...honest, outlier],
      before: [1_000_000, 900_000, 1_000_000, 123_456, 1_000_000],
      tau: 3_000_000,
    },
    { name: "tau 0: nobody kept, every update used", deltas: honest.slice(0, 3), before: [1_000_000, 500_000, 250_000], tau: 0 },
  ];
  return cases.map((c) => {
    const ids = c.deltas.map((_, i) => `participant ${i}`);
    const r = byzFedExactRound(c.deltas, ids, c.before, { tauMicros: c.tau, reputationDecayMicros: 900_000 });
    const { weights } = r;
    return {
      name: c.name,
      tauMicros: String(c.tau),
      reputationDecayMicros: "900000",
      base: ints(model),
      deltas: c.deltas.map(ints),
      reputationsBefore: c.before,
      kept: r.kept,
      fallback: r.fallback,
      reputationsAfter: r.reputationsAfter,
      weights,
      result: ints(aggregateExact(model, c.deltas, weights)),
    };
  });
}

export function serialise(value: unknown): string {
  return JSON.stringify(value, null, 2) + "\n";
}

async function main(): Promise<void> {
  await mkdir(VECTORS_DIR, { recursive: true });
  const files = await buildVectors();
  for (const [name, value] of Object.entries(files)) {
    await writeFile(path.join(VECTORS_DIR, name), serialise(value));
    console.log(`wrote test/vectors/${name}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
