// Writes test/vectors/proof-of-training.json: the shared vectors of docs/proof-of-training.md (round
// scope, challenge indices, batched attestations, key registry) and of the ledger's batched path
// (docs/protocol.md §14: registry zero hashes, challenge seed, entries digest, BatchedRoundRecord)
// that the TypeScript tests check and the ledger's Solidity tests read. Deterministic: same code, same bytes.
// Usage: tsx scripts/gen-pot-vectors.ts [--check]   (--check: write nothing, exit 1 if stale)
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { keccak256, toUtf8Bytes } from "ethers";
import { attestationDomain } from "../aggregator/protocol/attestation.js";
import { batchedEntriesDigest, challengeSeed, type BatchedEntryFields } from "../aggregator/protocol/commitment.js";
import { BATCHED_ROUND_RECORD_TYPE, batchedRoundRecordDigest } from "../aggregator/protocol/quorum.js";
import {
  attestationMessage,
  attestationMeta,
  babyJubKeyFromSeed,
  entryHash,
  keyRegistry,
  registryPath,
  registryZeroHashes,
  roundScope,
  ROUND_SCOPE_TAG,
  signMessage,
  updatesCommitment,
  verifyMessage,
  type AttestedEntry,
} from "../aggregator/protocol/eddsa.js";
import { PROTOCOL_VERSION } from "../aggregator/protocol/constants.js";
import { challengeChunkCount, challengeIndices } from "../aggregator/protocol/challenge.js";
import { packParticipantSlots } from "../aggregator/protocol/batched.js";

export const POT_VECTORS_FILE = path.resolve(import.meta.dirname, "..", "test", "vectors", "proof-of-training.json");

const LEDGER = "0x5FbDB2315678afecb367f032d93F642f64180aa3";

export async function buildPotVectors(): Promise<Record<string, unknown>> {
  const s = (x: bigint | number) => x.toString();

  const scopes = [
    { chainId: 31337n, ledger: LEDGER, federationId: 1n, round: 1n },
    { chainId: 31337n, ledger: LEDGER, federationId: 1n, round: 2n },
    { chainId: 31337n, ledger: LEDGER, federationId: 2n, round: 1n },
    { chainId: 1n, ledger: LEDGER, federationId: 1n, round: 1n },
    { chainId: 2n ** 64n - 1n, ledger: "0xffffffffffffffffffffffffffffffffffffffff", federationId: 2n ** 256n - 1n, round: 2n ** 64n - 1n },
  ].map((c) => ({
    chainId: s(c.chainId),
    ledger: c.ledger,
    federationId: s(c.federationId),
    round: s(c.round),
    scope: s(roundScope(c.chainId, c.ledger, c.federationId, c.round)),
  }));

  const seeds = [1n, 2n, 3n].map((i) =>
    challengeSeed("0x" + i.toString(16).padStart(64, "0"), keccak256(toUtf8Bytes(`block hash stand-in ${i}`))),
  );
  const challenge = [
    { seed: seeds[0], modelLength: 212, level: 0, samples: 1 },
    { seed: seeds[0], modelLength: 212, level: 0, samples: 2 },
    { seed: seeds[1], modelLength: 212, level: 0, samples: 13 },
    { seed: seeds[1], modelLength: 1_600, level: 0, samples: 4 },
    { seed: seeds[1], modelLength: 40, level: 0, samples: 4 },
    { seed: seeds[2], modelLength: 199_210, level: 0, samples: 4 },
    { seed: seeds[2], modelLength: 196_608, level: 2, samples: 3 },
  ].map((c) => {
    const chunks = challengeChunkCount(c.modelLength, c.level);
    return { ...c, chunks, indices: challengeIndices(c.seed, chunks, c.samples) };
  });

  const keys = await Promise.all(["alice", "bob", "carol"].map((l) => babyJubKeyFromSeed(l)));
  const registry = await keyRegistry(
    keys.map((k) => k.publicKey),
    2,
  );
  const scope = roundScope(31337n, LEDGER, 1n, 3n);
  const prevRoot = 123456789n;
  const updateRoots = [1001n, 1002n, 1003n];
  const metaFields = [
    { sampleCount: 600n, dpEpsilonMicros: 0n, dpDeltaPicos: 0n, dpClipMicros: 0n, dpNoiseMicros: 0n },
    { sampleCount: 400n, dpEpsilonMicros: 2_000_000n, dpDeltaPicos: 10_000n, dpClipMicros: 1_000_000n, dpNoiseMicros: 1_100_000n },
    { sampleCount: 2n ** 64n - 1n, dpEpsilonMicros: 1n, dpDeltaPicos: 1n, dpClipMicros: 1n, dpNoiseMicros: 1n },
  ];
  const weights = [20000, 13000, 32536];
  const attestations = [];
  const entries: AttestedEntry[] = [];
  for (let i = 0; i < keys.length; i++) {
    const meta = await attestationMeta(metaFields[i]);
    const message = await attestationMessage(scope, prevRoot, updateRoots[i], meta);
    const signature = await signMessage(keys[i].privateKey, message);
    if (!(await verifyMessage(keys[i].publicKey, message, signature))) throw new Error("generated signature does not verify");
    const entry: AttestedEntry = { publicKey: keys[i].publicKey, updateRoot: updateRoots[i], weight: weights[i], meta };
    entries.push(entry);
    attestations.push({
      privateKeyHex: Buffer.from(keys[i].privateKey).toString("hex"),
      publicKey: keys[i].publicKey.map(s),
      keyIndex: i,
      registryPath: registryPath(registry, i).map(s),
      metaFields: Object.fromEntries(Object.entries(metaFields[i]).map(([k, v]) => [k, s(v)])),
      meta: s(meta),
      updateRoot: s(updateRoots[i]),
      message: s(message),
      signature: { R8: signature.R8.map(s), S: s(signature.S) },
      weight: weights[i],
      entry: s(await entryHash(entry)),
    });
  }

  // The ledger's batched path (docs/protocol.md §14).
  const commitment = keccak256(toUtf8Bytes("dsain vector: h_t of a batched round"));
  const nextBlockHash = keccak256(toUtf8Bytes("dsain vector: hash of the block after the posting one"));
  const ledgerSeed = challengeSeed(commitment, nextBlockHash);
  const ledgerChunks = challengeChunkCount(199_210, 0);
  const batchedEntries: BatchedEntryFields[] = [
    {
      participant: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
      updateRoot: "0x" + 1001n.toString(16).padStart(64, "0"),
      sampleCount: 600n,
      weight: 23831,
      epsilonMicros: 150_000n,
      reputationMicros: 1_000_000,
    },
    {
      participant: "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC",
      updateRoot: "0x" + 1002n.toString(16).padStart(64, "0"),
      sampleCount: 2n ** 64n - 1n,
      weight: 41705,
      epsilonMicros: 2n ** 64n - 1n,
      reputationMicros: 2 ** 32 - 1,
    },
  ];
  const entriesDigest = batchedEntriesDigest(batchedEntries);
  const recordDomain = attestationDomain(31337n, LEDGER);
  const recordMessage = {
    federationId: 1n,
    round: 3n,
    parentRound: 2n,
    commitment,
    updatesCommitment: "0x" + (await updatesCommitment(entries)).toString(16).padStart(64, "0"),
    entriesDigest,
  };

  return {
    meta: {
      generator: "scripts/gen-pot-vectors.ts",
      spec: "docs/proof-of-training.md",
      protocolVersion: PROTOCOL_VERSION,
      description:
        "roundScope (§4), challengeIndices (§3), attestationMeta/attestationMessage/EdDSA-Poseidon signatures, entryHash, updatesCommitment, keyRegistry (§4) and participantSlots (§5); ledger: the batched path of docs/protocol.md §14 (registry zero hashes, challengeSeed, batchedEntriesDigest, BatchedRoundRecord)",
    },
    roundScopeTag: ROUND_SCOPE_TAG,
    roundScope: scopes,
    challenge,
    batched: {
      scopeOf: { chainId: "31337", ledger: LEDGER, federationId: "1", round: "3" },
      scope: s(scope),
      prevRoot: s(prevRoot),
      registry: { depth: registry.depth, root: s(registry.root) },
      participantSlots: s(
        packParticipantSlots(
          attestations.map((a) => a.keyIndex),
          registry.depth,
        ),
      ),
      participantSlotsWide: { slots: [5, 17, 40, 63], depth: 6, packed: s(packParticipantSlots([5, 17, 40, 63], 6)) },
      attestations,
      updatesCommitment: s(await updatesCommitment(entries)),
    },
    ledger: {
      zeroHashes: (await registryZeroHashes(32)).map(s),
      challenge: {
        commitment,
        nextBlockHash,
        seed: ledgerSeed,
        modelLength: 199_210,
        level: 0,
        chunks: ledgerChunks,
        samples: 3,
        indices: challengeIndices(ledgerSeed, ledgerChunks, 3),
      },
      record: {
        type: BATCHED_ROUND_RECORD_TYPE,
        typeHash: keccak256(toUtf8Bytes(BATCHED_ROUND_RECORD_TYPE)),
        entries: batchedEntries.map((e) => ({ ...e, sampleCount: s(e.sampleCount), epsilonMicros: s(e.epsilonMicros) })),
        entriesDigest,
        domain: { name: recordDomain.name, version: recordDomain.version, chainId: s(31337n), verifyingContract: LEDGER },
        message: {
          ...recordMessage,
          federationId: s(recordMessage.federationId),
          round: s(recordMessage.round),
          parentRound: s(recordMessage.parentRound),
        },
        digest: batchedRoundRecordDigest(recordDomain, recordMessage),
      },
    },
  };
}

export function renderPotVectors(v: Record<string, unknown>): string {
  return JSON.stringify(v, null, 2) + "\n";
}

async function main(): Promise<void> {
  const text = renderPotVectors(await buildPotVectors());
  const rel = path.relative(process.cwd(), POT_VECTORS_FILE);
  if (process.argv.includes("--check")) {
    const current = await readFile(POT_VECTORS_FILE, "utf8").catch(() => "");
    if (current !== text) {
      console.log(`${rel}: STALE — run tsx scripts/gen-pot-vectors.ts`);
      process.exitCode = 1;
    } else console.log(`${rel}: up to date`);
    return;
  }
  await writeFile(POT_VECTORS_FILE, text);
  console.log(`${rel}: written`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) await main();
