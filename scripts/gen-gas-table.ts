// Writes docs/gas.md: gas per round of ProvenanceLedger measured on Hardhat's in-process network for
// K = 4, 16, 64 in batched mode (one transaction) and direct mode (K attestation transactions, then
// the record), with each transaction split into intrinsic, calldata, log and execution gas.
// Run: `npm run generate:gas` (npx tsx scripts/gen-gas-table.ts). Generated, never typed.
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { Wallet, keccak256, toUtf8Bytes, type TransactionReceipt, type TransactionResponse } from "ethers";
import { openChain } from "../aggregator/chain/hardhat.js";
import { deployLedger } from "../aggregator/chain/deploy.js";
import { AggregationRule, NO_PREDECESSOR, pkhDid, type FederationConfig, type UpdateEntry } from "../aggregator/chain/ledger.js";
import { buildRecord, signRecord } from "../aggregator/chain/records.js";
import {
  FIELD_MODULUS,
  attestationDomain,
  fieldToBytes32,
  integerWeights,
  selectParticipants,
  signAttestation,
} from "../aggregator/protocol/index.js";

export const GAS_DOC = path.resolve(import.meta.dirname, "..", "docs", "gas.md");
export const SIZES = [4, 16, 64] as const;
/** Goal of issue 3 for a batched round, signature checks included. */
export const goal = (k: number): number => 120_000 + 8_000 * k;

const root = (label: string) => fieldToBytes32(BigInt(keccak256(toUtf8Bytes(label))) % FIELD_MODULUS);
const key = (label: string) => new Wallet(keccak256(toUtf8Bytes(`dsain gas table: ${label}`)));
const DP = { epsilonMicros: 1_000_000n, deltaPicos: 10_000n, clipMicros: 1_000_000n, noiseMicros: 1_100_000n };

/** Where a transaction's gas goes: the protocol's fixed charges, and what execution leaves. */
export interface GasSplit {
  total: number;
  intrinsic: number;
  calldata: number;
  logs: number;
  execution: number;
}

export interface GasRow {
  k: number;
  rosterSize: number;
  batched: GasSplit;
  /** One participant's attest() transaction (the mean over the round's K). */
  directAttest: GasSplit;
  /** The record in direct mode (entries without signatures). */
  directRecord: GasSplit;
  directTotal: number;
  /** proveRound with a verifier that accepts at once: the ledger's own cost of a proof. */
  proveOverhead: number;
}

function split(tx: TransactionResponse, receipt: TransactionReceipt): GasSplit {
  const data = Buffer.from(tx.data.slice(2), "hex");
  const zero = data.filter((b) => b === 0).length;
  const calldata = 4 * zero + 16 * (data.length - zero);
  const logs = receipt.logs.reduce((sum, l) => sum + 375 + 375 * l.topics.length + 8 * ((l.data.length - 2) / 2), 0);
  const total = Number(receipt.gasUsed);
  return { total, intrinsic: 21_000, calldata, logs, execution: total - 21_000 - calldata - logs };
}

function mean(splits: GasSplit[]): GasSplit {
  const avg = (f: (s: GasSplit) => number) => Math.round(splits.reduce((a, s) => a + f(s), 0) / splits.length);
  return {
    total: avg((s) => s.total),
    intrinsic: avg((s) => s.intrinsic),
    calldata: avg((s) => s.calldata),
    logs: avg((s) => s.logs),
    execution: avg((s) => s.execution),
  };
}

/** Deploys a fresh ledger, runs a warm-up round, then measures round 2 batched and round 3 direct. */
export async function measure(ethers: any, k: number, rosterFactor = 2): Promise<GasRow> {
  const [admin] = await ethers.getSigners();
  const ledger = await deployLedger(ethers, admin.address, [admin.address]);
  const verifier = await ethers.deployContract("MockRoundVerifier");
  const chainId: bigint = (await ethers.provider.getNetwork()).chainId;
  const domain = attestationDomain(chainId, await ledger.getAddress());
  const rosterSize = rosterFactor * k; // 2K: the selection leaves half the roster out, so the shuffle runs
  const roster = Array.from({ length: rosterSize }, (_, i) => key(`participant ${k}/${i}`));
  const committee = [key("aggregator 0"), key("aggregator 1"), key("aggregator 2")];
  const byAddress = new Map(roster.map((w) => [w.address, w]));
  const config: FederationConfig = {
    modelId: `gas-table-k${k}`,
    modelLength: 1_000_000,
    participantsPerRound: k,
    minUpdates: k,
    quorum: 2,
    roundDeadline: 86_400,
    finalityDelay: 0,
    genesisCidCodec: 0x70,
    verifier: await verifier.getAddress(),
    epsilonBudgetMicros: 1_000_000_000n,
    aggregation: { rule: AggregationRule.ByzFed, tauMicros: 500_000n, reputationDecayMicros: 900_000n },
    dp: DP,
    committee: committee.map((w) => w.address),
    verifyingKeyHash: keccak256(toUtf8Bytes("vk")),
    genesisModelRoot: root("genesis"),
    genesisCidDigest: keccak256(toUtf8Bytes("genesis checkpoint")),
    predecessor: NO_PREDECESSOR,
  };
  // Enrolled in slices: one transaction for 128 DIDs would exceed a block.
  await (await ledger.createFederation(config, [])).wait();
  for (const w of roster) {
    await (await ledger.enrol(1n, { signer: w.address, did: pkhDid(chainId, w.address), babyJubJubKey: [0n, 0n] })).wait();
  }
  // Round 1 (skipped, not measured) re-opens the federation on the full roster.
  await (await ledger.rejectRound(1n, 1n, "roster complete")).wait();

  let parentRound = 0n;
  let parentModel = config.genesisModelRoot;
  async function round(direct: boolean) {
    const [, state] = await ledger.federation(1n);
    const t = state.lastRound + 1n;
    const members = selectParticipants(await ledger.roster(1n), Number(state.rosterSize), k, state.selectionSeed);
    const sampleCounts = members.map((_, i) => BigInt(500 + i));
    const weights = integerWeights(sampleCounts);
    const entries: UpdateEntry[] = [];
    const attests: GasSplit[] = [];
    for (const [i, a] of members.entries()) {
      const updateRoot = root(`update ${k} ${t} ${a}`);
      const signature = await signAttestation(byAddress.get(a)!, domain, {
        federationId: 1n,
        round: t,
        baseModelRoot: parentModel,
        updateRoot,
        sampleCount: sampleCounts[i],
        dpEpsilonMicros: DP.epsilonMicros,
        dpDeltaPicos: DP.deltaPicos,
        dpClipMicros: DP.clipMicros,
        dpNoiseMicros: DP.noiseMicros,
      });
      if (direct) {
        const tx = await ledger.attest(1n, a, t, updateRoot, sampleCounts[i], signature);
        attests.push(split(tx, await tx.wait()));
      }
      entries.push({
        participant: a,
        updateRoot,
        sampleCount: sampleCounts[i],
        weight: weights[i],
        epsilonMicros: 250_000n + BigInt(i),
        reputationMicros: 900_000 - i,
        signature: direct ? "0x" : signature,
      });
    }
    const modelRoot = root(`model ${k} ${t}`);
    const record = buildRecord({
      federationId: 1n,
      round: t,
      parentRound,
      modelRoot,
      cidCodec: 0x70,
      cidDigest: keccak256(toUtf8Bytes(`checkpoint ${k} ${t}`)),
      entries,
    });
    const quorum = await signRecord(committee.slice(0, 2), domain, record.message);
    const tx = await ledger.postRound(1n, record.post, entries, quorum);
    const post = split(tx, await tx.wait());
    const proveTx = await ledger.proveRound(
      1n,
      t,
      record.columns,
      [0n, 0n],
      [
        [0n, 0n],
        [0n, 0n],
      ],
      [0n, 0n],
    );
    const prove = Number((await proveTx.wait()).gasUsed);
    await (await ledger.finalizeRound(1n, t)).wait();
    parentRound = t;
    parentModel = modelRoot;
    return { post, attests, prove };
  }
  await round(false); // warm-up: first debits and reputations of this roster
  const batched = await round(false);
  const direct = await round(true);
  return {
    k,
    rosterSize,
    batched: batched.post,
    directAttest: mean(direct.attests),
    directRecord: direct.post,
    directTotal: direct.attests.reduce((a, s) => a + s.total, 0) + direct.post.total,
    proveOverhead: batched.prove,
  };
}

const n = (x: number) => x.toLocaleString("en-US");

export function renderRow(r: GasRow): string {
  const within = r.batched.total <= goal(r.k);
  return `| ${r.k} | ${r.rosterSize} | ${n(r.batched.total)} | ${n(goal(r.k))} | ${within ? "yes" : `no (×${(r.batched.total / goal(r.k)).toFixed(2)})`} | ${n(Math.round(r.batched.total / r.k))} | ${n(r.directAttest.total)} | ${n(r.directRecord.total)} | ${n(r.directTotal)} | ${n(r.proveOverhead)} |`;
}

function splitRow(what: string, k: number, s: GasSplit): string {
  return `| ${what} | ${k} | ${n(s.total)} | ${n(s.intrinsic)} | ${n(s.calldata)} | ${n(s.logs)} | ${n(s.execution)} |`;
}

/** `noShuffle` is the largest K measured again with a roster of exactly K, where nobody is left out. */
export function renderDoc(rows: GasRow[], noShuffle: GasRow, hardfork: string): string {
  const [a, b] = [rows[rows.length - 2], rows[rows.length - 1]];
  const marginal = (f: (r: GasRow) => number) => Math.round((f(b) - f(a)) / (b.k - a.k));
  const perK = {
    total: marginal((r) => r.batched.total),
    calldata: marginal((r) => r.batched.calldata),
    logs: marginal((r) => r.batched.logs),
    execution: marginal((r) => r.batched.execution),
  };
  const fixed = b.batched.total - perK.total * b.k;
  const selection = Math.round((b.batched.total - noShuffle.batched.total) / b.k);
  return `# Gas per round

<!-- Generated by scripts/gen-gas-table.ts (npm run generate:gas); do not edit by hand. -->

Measured on Hardhat's in-process network (EDR, hardfork \`${hardfork}\`, solc 0.8.28 with viaIR and
200 optimizer runs) by deploying \`ProvenanceLedger\` and posting real rounds: K participants
selected from a roster of 2K (so the swap-or-not selection runs for every entry), a committee of
2f+1 = 3 aggregators of which f+1 = 2 sign each record, non-zero DP parameters, epsilon debits and
reputations. Each K is measured in its second round, when every participant slot is already warm
in the sense of holding non-zero values. Goal of issue 3 for batched mode: 120,000 + 8,000·K gas,
signature checks included.

| K | roster | batched round | goal | within goal | batched per participant | direct: one attest tx | direct: record tx | direct: whole round | proveRound overhead |
| -: | -: | -: | -: | :-: | -: | -: | -: | -: | -: |
${rows.map(renderRow).join("\n")}

"proveRound overhead" is the ledger's own cost of a proof (checking the columns against the
record, building the public inputs, the call) with a verifier that answers at once; the Groth16
verifier adds its pairing check, about 189,800 + 6,650 gas per public input (docs/protocol.md §8
has 3 + 2K inputs), which the demo measures with the real \`RoundChunkVerifier_4_4\`.

## Where the gas goes

Each transaction split into the intrinsic 21,000, calldata (4 gas per zero byte, 16 per other
byte), logs (375 per log, 375 per topic, 8 per data byte) and the rest: execution, i.e. storage,
hashing and signature recovery.

| transaction | K | total | intrinsic | calldata | logs | execution |
| :- | -: | -: | -: | -: | -: | -: |
${rows.map((r) => splitRow("batched record", r.k, r.batched)).join("\n")}
${rows.map((r) => splitRow("direct attest (mean)", r.k, r.directAttest)).join("\n")}
${rows.map((r) => splitRow("direct record", r.k, r.directRecord)).join("\n")}

Between K = ${a.k} and K = ${b.k} a batched round grows by ${n(perK.total)} gas per participant: ${n(perK.calldata)}
calldata, ${n(perK.logs)} logs, ${n(perK.execution)} execution; the fixed part is about ${n(fixed)} gas.

## Why batched mode misses 120,000 + 8,000·K

Every participant costs, whatever the optimisation, what the chain charges for the evidence
itself: its entry in calldata (address, update root, sample count, weight, epsilon debit,
reputation and a 65-byte signature, about ${n(perK.calldata)} gas), its \`UpdateAttested\` event and its
columns in \`RoundProposed\` so that an auditor can judge the round from events alone (about
${n(perK.logs)} gas), the secp256k1 recovery of its EIP-712 signature (3,000 gas for the precompile alone),
and one storage write of its participant slot: cumulative epsilon, reputation and the round it
last attested in, packed into one word (a warm rewrite costs 2,900 gas after a 2,100-gas cold
read). The swap-or-not membership check (16 keccak rounds) adds ${n(selection)} gas (K = ${b.k} measured
with a roster of ${b.k} instead of ${b.rosterSize}: ${n(noShuffle.batched.total)} gas). That is above 8,000 gas
before any hashing of the record. The fixed part pays five new storage words for the
round record (about 22,100 gas each: status and pointers, h_t, model root, updates digest,
challenge seed), two quorum signatures, the digests over the columns and the next round's
selection seed.

The remaining levers are in the protocol, not in the Solidity: checking the participants'
signatures inside the Groth16 proof (the circuits issue) removes the signature bytes, the
recoveries and most of the per-participant log; keeping budgets and reputations as a Merkle root
updated in the proof would remove the per-participant storage write. Direct mode costs more in
total (each participant pays its own 21,000-gas transaction and a 22,100-gas storage word for its
attestation) but spreads the cost over the participants and keeps every transaction small.
`;
}

async function main(): Promise<void> {
  const chain = await openChain({ quiet: true });
  try {
    const rows: GasRow[] = [];
    for (const k of SIZES) {
      const row = await measure(chain.ethers, k);
      console.log(renderRow(row));
      rows.push(row);
    }
    const noShuffle = await measure(chain.ethers, SIZES[SIZES.length - 1], 1);
    const hardfork = String(chain.connection.networkConfig?.hardfork ?? "default");
    await writeFile(GAS_DOC, renderDoc(rows, noShuffle, hardfork));
    console.log(`wrote ${path.relative(process.cwd(), GAS_DOC)}`);
  } finally {
    await chain.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await main();
}
