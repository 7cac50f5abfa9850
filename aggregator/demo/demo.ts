// The main job: a real federation end to end in one process — chain, IPFS, training, exact
// aggregation (FedAvg or ByzFed), published updates, attestations, Groth16 proofs bound to the
// recorded round — then the audit, which recomputes every round from the published updates.
import { LedgerClient } from "../adapters/chain/ledger.js";
import { AggregationRule, NO_DP, NO_PREDECESSOR, pkhDid, type ParticipantInfo } from "../protocol/evidence.js";
import { signRecord } from "../adapters/chain/records.js";
import { DsainError, ErrorCode } from "../errors.js";
import { attestationDomain, MICROS } from "../protocol/index.js";
import { ensureCircuitKeys } from "../adapters/proof/keys.js";
import { exactRuleOf } from "../maths/robust/exact-rule.js";
import { commitUpdate, signUpdate, attestOnce } from "../roles/participant.js";
import { checkReceivedUpdate, proposeRecord, readSelection, recordEntries, type ReceivedUpdate } from "../roles/aggregator.js";
import { finalizeRecord, postRecord, proveRecord } from "../roles/poster.js";
import { proveChunk } from "../roles/prover.js";
import { advanceState, genesisState } from "../roles/round-state.js";
import { endorse } from "../roles/committee.js";
import { aggregateAndCommit, evaluateModel, newReviewer, quorumOf, roundChallenge, runDemoSession, trainSelected } from "./session.js";

export * from "./common.js";
import {
  DEMO_BYZFED,
  DEMO_INSTANCE,
  DEMO_MODEL_ID,
  DemoOptions,
  DemoResult,
  PostMode,
  ROSTER_EXTRA,
  RoundSummary,
  pct,
  resetWorkDir,
  gasOf,
} from "./common.js";

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  if (options.zkAttestations === true) return (await import("./zk-demo.js")).runZkDemo(options);
  const log = options.log ?? (() => undefined);
  const step = (what: string) => log(`• ${what}`);
  if (!Number.isInteger(options.rounds) || options.rounds < 1) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `--rounds is ${options.rounds}; it must be a positive integer`);
  }
  if (options.participants !== 4) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--participants is ${options.participants}; the demo circuit ${DEMO_INSTANCE} is built for exactly 4 participants`,
    );
  }
  if (!Number.isInteger(options.epochs) || options.epochs < 1) {
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `--epochs is ${options.epochs}; it must be a positive integer`);
  }
  const rule = options.rule ?? "fedavg";
  if (rule !== "fedavg" && rule !== "byzfed")
    throw new DsainError(ErrorCode.BAD_ARGUMENT, `--rule is ${String(rule)}; it must be fedavg or byzfed`);
  const byzantine = options.byzantine ?? 0;
  if (!Number.isInteger(byzantine) || byzantine < 0 || byzantine > options.participants + ROSTER_EXTRA) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--byzantine is ${byzantine}; it must be an integer between 0 and the roster size ${options.participants + ROSTER_EXTRA}`,
    );
  }
  const dropouts = options.dropouts ?? 0;
  if (!Number.isInteger(dropouts) || dropouts < 0 || dropouts >= options.participants) {
    throw new DsainError(
      ErrorCode.BAD_ARGUMENT,
      `--dropouts is ${dropouts}; it must be an integer from 0 to ${options.participants - 1} (a round needs at least one update)`,
    );
  }

  await resetWorkDir(options.workDir);
  step(`proving keys for ${DEMO_INSTANCE} (cached after the first run)`);
  const keys = await ensureCircuitKeys(DEMO_INSTANCE, { log: (m) => log(`  ${m}`) });
  log(`  ${keys.constraints} constraints, verifying key ${keys.vkeyHash.slice(0, 18)}… (development key, not for production)`);

  const k = options.participants;
  const rosterSize = k + ROSTER_EXTRA;
  const setup = { rosterSize, k, deploying: "deploying RoundChunkVerifier_4_1 and ProvenanceLedger with Ignition" };
  return runDemoSession(options, setup, async (s) => {
    const { ledger, ledgerAddress, chainId, aggregator, wallets, genesis } = s;
    // Direct mode: participants pay for their own attestation transactions.
    for (const w of wallets) {
      await (await aggregator.sendTransaction({ to: w.address, value: 10n ** 18n })).wait();
    }
    const aggregation =
      rule === "byzfed"
        ? { rule: AggregationRule.ByzFed, ...DEMO_BYZFED }
        : { rule: AggregationRule.FedAvg, tauMicros: 0n, reputationDecayMicros: 0n };
    const roster: ParticipantInfo[] = wallets.map((w) => ({ signer: w.address, did: pkhDid(chainId, w.address), babyJubJubKey: [0n, 0n] }));
    const { federationId } = await ledger.createFederation(
      {
        modelId: DEMO_MODEL_ID,
        modelLength: genesis.model.length,
        participantsPerRound: k,
        // The circuit proves K slots; a round with fewer updates pads them at weight 0 (§8).
        minUpdates: k - dropouts,
        quorum: 2,
        roundDeadline: 3600,
        finalityDelay: 0,
        genesisCidCodec: genesis.checkpoint.cidCodec,
        verifier: s.chunkVerifierAddress,
        epsilonBudgetMicros: 0n, // no DP noise in the demo, so no epsilon is spent
        aggregation,
        dp: NO_DP,
        committee: s.committeeAddresses,
        verifyingKeyHash: keys.vkeyHash,
        genesisModelRoot: genesis.checkpoint.modelRoot,
        genesisCidDigest: genesis.checkpoint.cidDigest,
        predecessor: NO_PREDECESSOR,
      },
      roster,
    );
    log(
      `  federation ${federationId}: ${genesis.model.length} parameters, genesis ${genesis.checkpoint.cid}, accuracy ${pct(genesis.accuracy)}`,
    );
    log(`  roster of ${rosterSize} (did:pkh), committee of 3 aggregators with quorum 2, ${k} participants selected per round`);
    log(
      rule === "byzfed"
        ? `  aggregation: ByzFed (tau ${Number(DEMO_BYZFED.tauMicros) / MICROS}, reputation decay ${Number(DEMO_BYZFED.reputationDecayMicros) / MICROS}) on the exact path`
        : "  aggregation: FedAvg on the exact path",
    );
    if (byzantine > 0) {
      log(`  Byzantine: roster ${byzantine === 1 ? "index 0 sends" : `indices 0…${byzantine - 1} send`} -5 × its update whenever selected`);
    }

    const resultWith = (rounds: RoundSummary[]): DemoResult => ({
      chainId,
      ledger: ledgerAddress,
      verifier: s.chunkVerifierAddress,
      federationId,
      rule,
      genesisCid: genesis.checkpoint.cid,
      initialAccuracy: genesis.accuracy,
      rounds,
      constraints: keys.constraints,
      vkeyHash: keys.vkeyHash,
      ipfsDir: s.ipfsDir,
      deploymentId: s.deploymentId,
    });
    const auditKeys = { vkey: keys.vkey, vkeyHash: keys.vkeyHash };
    // `dsain devnet`: the federation exists, funded and enrolled; its rounds belong to the daemons.
    if (options.setupOnly === true) return { result: resultWith([]), auditKeys };

    const domain = attestationDomain(chainId, ledgerAddress);
    const rosterAddresses = wallets.map((w) => w.address);
    const rounds: RoundSummary[] = [];
    const exactRule = exactRuleOf(aggregation);
    let state = genesisState(genesis.model, genesis.checkpoint.modelRoot);
    const reviewer = newReviewer();
    for (let t = 1; t <= options.rounds; t++) {
      const mode = postModeOf(options.postMode ?? "alternate", t);
      step(`round ${t}/${options.rounds} (${mode} mode)`);
      // S_t is fixed by the chain when the round opens; everyone recomputes it from the seed.
      const selection = await readSelection(ledger, federationId, rosterAddresses, k);
      const round = state.round;
      log(`  S_${t}: roster indices ${selection.slots.join(", ")} selected by seed ${selection.selectionSeed.slice(0, 12)}…`);
      // Dropouts: the last participants of S_t (in record order) send nothing; the round closes with the others.
      const sorted = selection.addresses;
      const dropped = sorted.slice(sorted.length - dropouts);
      if (dropouts > 0)
        log(
          `  dropouts: ${dropped.map((a) => `roster index ${rosterAddresses.indexOf(a)}`).join(", ")} ${dropped.length === 1 ? "sends" : "send"} no update`,
        );
      const sending = sorted.slice(0, sorted.length - dropouts);

      // Participants: train from w_t, encode, commit, sign (EIP-712).
      const { updates, poisoned } = await trainSelected(
        s,
        state,
        t,
        sending.map((a) => rosterAddresses.indexOf(a)),
      );
      const roundCtx = { federationId, round, baseModelRoot: state.modelRoot };
      const received: ReceivedUpdate[] = [];
      for (const u of updates) {
        const updateRoot = await commitUpdate(u.delta);
        const signature = await signUpdate(wallets[u.slot], domain, roundCtx, { updateRoot, sampleCount: u.sampleCount });
        received.push({ participant: u.participant, delta: u.delta, sampleCount: u.sampleCount, updateRoot, signature });
      }
      log(
        `  ${received.length} participants trained ${options.epochs} local epoch(s) and signed their updates${poisoned.length > 0 ? ` (${poisoned.length} poisoned)` : ""}`,
      );
      // The aggregator takes an update only if it matches its attestation.
      for (const u of received) await checkReceivedUpdate(u, { domain, ...roundCtx });
      let attestGas = 0n;
      if (mode === "direct") {
        for (const [i, u] of received.entries()) {
          const own = new LedgerClient(ledgerAddress, s.abi, wallets[updates[i].slot].connect(s.chain.ethers.provider));
          attestGas += await attestOnce(own, federationId, { ...u, round });
          u.signature = "0x"; // the record refers to the attestation already on-chain
        }
        log(`  each participant sent its own attestation transaction (${attestGas} gas in all)`);
      }

      // The updates are published beside the checkpoint, which lists their CIDs (docs/protocol.md §7);
      // here the aggregator puts them in its store on the participants' behalf.
      const { published, decision, cheat, checkpoint } = await aggregateAndCommit(s, state, t, exactRule, received);
      const weights = decision.weights;
      if (rule === "byzfed") {
        const notKept = received.filter((_, i) => !decision.kept.includes(i)).map((u) => rosterAddresses.indexOf(u.participant));
        log(
          `  ByzFed keeps ${decision.kept.length} of ${received.length}${notKept.length > 0 ? ` (drops roster index ${notKept.join(", ")})` : ""}; reputations ${decision.reputationsAfter!.map((r) => (r / MICROS).toFixed(2)).join("/")}`,
        );
      }
      const entries = recordEntries(received, decision, state.reputations, NO_DP); // the federation's dp
      const record = proposeRecord(federationId, state, checkpoint, entries);
      const commitment = record.post.commitment;
      // The second committee member re-executes the round with the auditor's checks before it signs
      // (the first is the aggregator that built it).
      const quorum = await quorumOf(s, t, federationId, reviewer, cheat, {
        own: async () => (await signRecord([s.committee[0]], domain, record.message))[0],
        endorse: (basis, endorsements) => endorse(s.committee[1], domain, basis, record, entries, endorsements),
        colluding: () => signRecord(s.committee.slice(0, 2), domain, record.message),
      });
      const postGas = gasOf(await postRecord(ledger, federationId, record, entries, quorum));
      log(
        `  ${rule === "byzfed" ? "ByzFed" : "FedAvg"} (exact, weights ${weights.join("/")}) → ${checkpoint.cid}; h_t ${commitment.slice(0, 18)}… posted with 2 of 3 committee signatures (${postGas} gas)`,
      );

      // The proof's public inputs come from the contract, never from the aggregator's own state; the
      // challenged chunk in them is fixed by the hash of the block after the record's (§8).
      const publicInputs = await roundChallenge(
        s,
        t,
        () => ledger.publicInputs(federationId, round, record.columns),
        cheat,
        (inputs, chunk) => Number(inputs[2]) !== chunk,
      );
      const deltas = received.map((u) => u.delta);
      const proved = await proveChunk({
        instance: DEMO_INSTANCE,
        round,
        base: state.model,
        next: cheat.next,
        deltas,
        weights,
        slots: k,
        publicInputs,
      });
      const proveGas = gasOf(await proveRecord(ledger, federationId, round, record.columns, proved.proof));
      await finalizeRecord(ledger, federationId, round);
      log(
        `  Groth16 proof of chunk ${proved.chunkIndex}: witness ${Math.round(proved.witnessMs)} ms, prove ${Math.round(proved.proveMs)} ms; verified on-chain (${proveGas} gas); round finalized`,
      );

      const metrics = evaluateModel(s, cheat.next);
      log(`  test accuracy ${pct(metrics.accuracy)} (loss ${metrics.loss.toFixed(4)})`);
      rounds.push({
        round: t,
        mode,
        selected: sending,
        dropped,
        accuracy: metrics.accuracy,
        loss: metrics.loss,
        cid: checkpoint.cid,
        updateCids: published.map((p) => p.cid),
        weights,
        reputations: entries.map((u) => u.reputationMicros),
        byzantine: poisoned,
        cheat: cheat.note,
        modelRoot: checkpoint.modelRoot,
        commitment,
        chunkIndex: proved.chunkIndex,
        postGas,
        attestGas,
        proveGas,
        witnessMs: Math.round(proved.witnessMs),
        proveMs: Math.round(proved.proveMs),
      });
      state = advanceState(state, { model: cheat.next, modelRoot: checkpoint.modelRoot, entries });
    }

    return { result: resultWith(rounds), auditKeys };
  });
}

function postModeOf(mode: PostMode, t: number): "batched" | "direct" {
  if (mode === "alternate") return t % 2 === 1 ? "batched" : "direct";
  return mode;
}
