// The round library on a live chain: after the demo's two rounds, a third round is driven by the
// library's steps alone (state rebuilt from chain and store, selection, attestations, checkpoint,
// record, quorum, challenge, proof, finalization), each chain step run twice to show it is
// idempotent, a conflicting record refused, and the resulting history audited.
import { expect } from "chai";
import { type Wallet } from "ethers";
import { DEMO_INSTANCE, committeeWallet, participantWallet, type DemoResult } from "../../aggregator/demo/demo.js";
import { ErrorCode } from "../../aggregator/errors.js";
import { attestationDomain, MICROS, recoverRoundRecordSigner } from "../../aggregator/protocol/index.js";
import type { FederationEvidence } from "../../aggregator/protocol/evidence.js";
import { LEDGER_ABI } from "../../aggregator/adapters/chain/abi.js";
import { LedgerClient } from "../../aggregator/adapters/chain/ledger.js";
import { signRecord } from "../../aggregator/adapters/chain/records.js";
import { ensureCircuitKeys } from "../../aggregator/adapters/proof/keys.js";
import { mlpSpec } from "../../aggregator/maths/learning/model.js";
import { attestOnce, commitUpdate, signUpdate } from "../../aggregator/roles/participant.js";
import {
  checkReceivedUpdate,
  proposeRecord,
  readSelection,
  recordEntries,
  storeCheckpoint,
  type ReceivedUpdate,
} from "../../aggregator/roles/aggregator.js";
import { finalizeRecord, postRecord, proveRecord } from "../../aggregator/roles/poster.js";
import { proveChunk, readChallenge } from "../../aggregator/roles/prover.js";
import { stateFromChain } from "../../aggregator/roles/round-state.js";
import { endorse, MemoryEndorsementLog, reviewBasis } from "../../aggregator/roles/committee.js";
import { auditEvidence } from "../../aggregator/roles/auditor/run.js";
import { startDemoRun, stopDemoRun } from "../helpers/demo-run.js";
import { expectDsainRejection } from "../helpers/errors.js";
import { seededVector } from "../helpers/random.js";
import { aggregateAndStore } from "../helpers/library-round.js";

describe("roles: a round driven by the library on the demo's live chain", function () {
  let dir: string;
  let result: DemoResult;
  let evidence: FederationEvidence;

  before(async function () {
    ({ dir, result, evidence } = await startDemoRun("dsain-roles-", { epochs: 1 }));
  });

  after(async function () {
    await stopDemoRun(dir, result);
  });

  it("should rebuild the round state from the chain and the store alone", async function () {
    const { ledgerClient, store } = result.session!;
    const state = await stateFromChain(ledgerClient, result.federationId, evidence, store);
    expect(state.round).to.equal(3n);
    expect(state.parentRound).to.equal(2n);
    expect(state.modelRoot).to.equal(result.rounds[1].modelRoot);
    expect(state.model.length).to.equal(212);
    for (const p of result.rounds[1].selected) expect(state.reputations.get(p)).to.equal(MICROS);
  });

  it("should post, prove and finalize round 3 once each, however often the steps run, with a member that signs only the honest record", async function () {
    const { chain, ledgerClient: ledger, store } = result.session!;
    const fid = result.federationId;
    const provider = chain.ethers.provider;

    const state = await stateFromChain(ledger, fid, evidence, store);
    const roster = evidence.participants;
    const selection = await readSelection(ledger, fid, roster, 4);
    expect(selection.round).to.equal(state.round);
    expect(selection.addresses).to.have.length(4);

    // Participants: an update each, committed and signed, each attested by its own transaction.
    const domain = attestationDomain(result.chainId, result.ledger);
    const ctx = { federationId: fid, round: state.round, baseModelRoot: state.modelRoot };
    const received: ReceivedUpdate[] = [];
    for (const [i, address] of selection.addresses.entries()) {
      const wallet: Wallet = participantWallet(1, roster.indexOf(address)).connect(provider);
      const delta = seededVector(300 + i, state.model.length, 1 << 12);
      const sampleCount = BigInt(50 + i);
      const updateRoot = await commitUpdate(delta);
      const signature = await signUpdate(wallet, domain, ctx, { updateRoot, sampleCount });
      const u = { participant: address, delta, sampleCount, updateRoot, signature };
      await checkReceivedUpdate(u, { domain, ...ctx });
      const own = new LedgerClient(result.ledger, LEDGER_ABI, wallet);
      const signed = { ...u, round: state.round };
      expect(await attestOnce(own, fid, signed)).to.be.greaterThan(0n);
      expect(await attestOnce(own, fid, signed), "a second attestation of the same update").to.equal(0n);
      received.push({ ...u, signature: "0x" });
    }
    const first = received[0];
    const firstOwn = new LedgerClient(result.ledger, LEDGER_ABI, participantWallet(1, roster.indexOf(first.participant)).connect(provider));
    await expectDsainRejection(
      attestOnce(firstOwn, fid, { ...first, round: state.round, updateRoot: "0x" + "01".repeat(32), signature: "0x" }),
      ErrorCode.CHAIN_FAILURE,
      new RegExp(`${first.participant} already attested update root ${first.updateRoot} for round 3; refusing`),
    );

    // Aggregator: publish, FedAvg, checkpoint, record; two committee members sign it.
    const { published, decision, next, checkpoint } = await aggregateAndStore(store, evidence.config.modelId, state, received);
    const entries = recordEntries(received, decision, state.reputations, evidence.config.dp);
    const record = proposeRecord(fid, state, checkpoint, entries);
    const [aggregator] = await chain.ethers.getSigners();

    // Committee member: re-executes the round with the auditor's checks, signs only the honest record, and only once.
    const member = committeeWallet(1);
    const memberLog = new MemoryEndorsementLog();
    const basis = await reviewBasis(await ledger.readEvidence(fid, provider), store);
    const lying = next.slice();
    lying[0] += 1;
    const lie = await storeCheckpoint(store, {
      round: 3,
      modelId: evidence.config.modelId,
      tensors: mlpSpec(),
      values: lying,
      updates: published,
    });
    const lieRecord = proposeRecord(fid, state, lie, entries);
    const refused = await endorse(member, domain, basis, lieRecord, entries, memberLog);
    expect(refused.signed).to.equal(false);
    expect(refused.signed === false && refused.findings.map((x) => `${x.round}:${x.link}`)).to.deep.equal(["3:aggregation"]);
    const endorsed = await endorse(member, domain, basis, record, entries, memberLog);
    if (!endorsed.signed) expect.fail(`the honest record was refused: ${endorsed.findings.map((x) => x.message).join("; ")}`);
    expect(recoverRoundRecordSigner(domain, record.message, endorsed.signature)).to.equal(member.address);
    await expectDsainRejection(
      endorse(member, domain, basis, lieRecord, entries, memberLog),
      ErrorCode.INPUT_INVALID,
      /already endorsed another record for round 3/,
    );
    const [own] = await signRecord([aggregator], domain, record.message);
    const quorum = [own, endorsed.signature];

    // Poster: once, then found on-chain; a different record for the round is refused.
    const posted = await postRecord(ledger, fid, record, entries, quorum);
    expect(posted.sent).to.equal(true);
    expect(await postRecord(ledger, fid, record, entries, quorum)).to.deep.equal({ sent: false, status: "Attested" });
    const other = proposeRecord(fid, state, { ...checkpoint, modelRoot: "0x" + "02".repeat(32) }, entries);
    await expectDsainRejection(
      postRecord(ledger, fid, other, entries, await signRecord([aggregator, committeeWallet(1)], domain, other.message)),
      ErrorCode.CHAIN_FAILURE,
      /round 3 already holds another record \(commitment 0x[0-9a-f]{64}, Attested\)/,
    );

    // Prover and poster: the challenged chunk proven against the ledger's inputs, submitted once, finalized once.
    const { challenge: publicInputs } = await readChallenge(() => ledger.publicInputs(fid, 3n, record.columns), {
      provider,
      mine: true,
      what: "round 3",
    });
    const proved = await proveChunk({
      instance: DEMO_INSTANCE,
      round: 3n,
      base: state.model,
      next,
      deltas: received.map((u) => u.delta),
      weights: decision.weights,
      slots: 4,
      publicInputs,
    });
    expect((await proveRecord(ledger, fid, 3n, record.columns, proved.proof)).sent).to.equal(true);
    expect(await proveRecord(ledger, fid, 3n, record.columns, proved.proof)).to.deep.equal({ sent: false, status: "Proven" });
    expect((await finalizeRecord(ledger, fid, 3n)).sent).to.equal(true);
    expect(await finalizeRecord(ledger, fid, 3n)).to.deep.equal({ sent: false, status: "Finalized" });

    // The state moves on, and the history with the library's round passes the audit.
    const after = await ledger.readEvidence(fid, provider);
    const moved = await stateFromChain(ledger, fid, after, store);
    expect(moved.round).to.equal(4n);
    expect(moved.modelRoot).to.equal(checkpoint.modelRoot);
    const keys = await ensureCircuitKeys(DEMO_INSTANCE);
    const audit = await auditEvidence({ evidence: after, store, vkey: keys.vkey, vkeyHash: keys.vkeyHash });
    expect(audit.ok, audit.lines.join("\n")).to.equal(true);
    expect(audit.report.finalized).to.equal(3);
  });
});
