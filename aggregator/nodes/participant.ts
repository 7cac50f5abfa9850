// The participant daemon's loop (docs/protocol.md §10, §11, §15): for every round the chain opens,
// read the selection; when selected, rebuild the round's base model from the chain and the parent
// checkpoint (fetched from its peers and checked against the root on-chain), train on local data,
// store the update file on its own IPFS node, attest (the EIP-712 `attest` transaction, or an
// EdDSA-Poseidon signature on a batched federation), and announce the update's CID until the round
// closes. The update is kept in the local state before it is attested, so a restart attests and
// announces the same update rather than training a second one.
import { getAddress, type Wallet, type HDNodeWallet } from "ethers";
import { DsainError, ErrorCode, ensureError, isRetryable } from "../errors.js";
import { attestationDomain } from "../protocol/attestation.js";
import { decodeCheckpoint, encodeUpdateFile, type TensorSpec } from "../protocol/checkpoint.js";
import { cidFromOnchain } from "../protocol/cid.js";
import { roundScope } from "../protocol/eddsa.js";
import type { FederationEvidence } from "../protocol/evidence.js";
import { WIRE_VERSION, encodeWireMessage, topicName, type UpdateAnnouncement } from "../protocol/wire.js";
import type { Dataset } from "../maths/learning/data.js";
import { initTf, type Tf } from "../maths/learning/tf.js";
import { readSelection } from "../roles/aggregator.js";
import { attestOnce, commitUpdate, signUpdate, signUpdateEdDSA, trainUpdate } from "../roles/participant.js";
import { stateFromChain } from "../roles/round-state.js";
import { loadParticipantData } from "./data.js";
import { since } from "./log.js";
import { sleep } from "./retry.js";
import { withRetry } from "./retry.js";
import type { NodeContext } from "./context.js";
import type { OwnUpdate } from "./state.js";

/** Largest checkpoint a participant fetches: the model in 32-bit words plus a generous header and update list. */
export function checkpointByteCap(modelLength: number): number {
  return 4 * modelLength + (1 << 20);
}

/** How often an update is announced again while its round is open (a message sent before the mesh formed is lost). */
const ANNOUNCE_EVERY_MS = 2000;

/** The seed of a participant's local training in round `round`: the same run gives the same update. */
export function trainingSeed(account: string, round: bigint): number {
  let h = Number(round % 1_000_003n) * 2_654_435_761;
  for (const c of getAddress(account).slice(2)) h = (Math.imul(h ^ c.charCodeAt(0), 16_777_619) >>> 0) % 0x7fffffff;
  return h >>> 0;
}

export async function participantLoop(
  ctx: NodeContext<"participant">,
  wallet: Wallet | HDNodeWallet,
  chainStatus: (error: string | undefined) => void,
): Promise<void> {
  const { config, log, ledger, provider, store, metrics, signal, federation } = ctx;
  const fid = config.federationId;
  const me = getAddress(ctx.account);
  const topic = topicName(ctx.chainId, config.ledger, fid, "updates");
  const { dataset, description } = loadParticipantData(config.data);
  log.info({ data: description }, "local data loaded");
  let tf: Tf | undefined;
  let handled = 0n; // the last round decided (trained, or seen without being selected)
  let announced: { round: bigint; update: OwnUpdate; at: number } | undefined;

  while (!signal.aborted) {
    try {
      const fs = await ledger.federationState(fid);
      chainStatus(undefined);
      const open = fs.lastRound + 1n;
      metrics.currentRound.set(Number(open));
      if (open > handled) {
        metrics.roundsSeen.inc();
        const update = await handleRound(open);
        handled = open;
        announced = update === undefined ? undefined : { round: open, update, at: 0 };
      }
      if (announced !== undefined && announced.round === open && Date.now() - announced.at >= ANNOUNCE_EVERY_MS) {
        await announce(announced.round, announced.update);
        announced.at = Date.now();
      }
    } catch (error) {
      if (signal.aborted) break;
      const e = ensureError(error);
      if (isRetryable(error)) {
        if ((error as DsainError).code === ErrorCode.CHAIN_UNAVAILABLE) chainStatus(e.message);
        log.warn({ reason: e.message }, "transient failure; trying again at the next poll");
      } else {
        // This round is lost for this participant, not the daemon: it goes on with the next one.
        const round = (await ledger.federationState(fid).catch(() => undefined))?.lastRound;
        handled = round === undefined ? handled : round + 1n;
        metrics.roundsRefused.inc({ reason: (error as DsainError).code ?? "error" });
        log.error({ round: Number(handled), reason: e.message, code: (error as DsainError).code }, "round abandoned");
      }
    }
    await sleep(config.pollMs, signal);
  }

  async function handleRound(round: bigint): Promise<OwnUpdate | undefined> {
    const started = performance.now();
    const evidence = await ledger.readEvidence(fid, provider);
    const selection = await readSelection(ledger, fid, evidence.participants, federation.participantsPerRound);
    if (selection.round !== round) return undefined; // the chain moved on meanwhile: the next poll sees it
    if (!selection.addresses.some((a) => getAddress(a) === me)) {
      log.info({ round: Number(round), selected: selection.addresses.length }, "round open, not selected");
      return undefined;
    }
    log.info({ round: Number(round), ms: since(started) }, "round open, selected");
    let own = ctx.state.ownUpdate(fid, round);
    if (own === undefined) {
      own = await produceUpdate(round, evidence);
      ctx.state.recordOwnUpdate(fid, round, own);
    } else {
      log.info(
        { round: Number(round), cid: own.cid },
        "update of this round already produced before a restart: attesting and announcing it",
      );
    }
    if (evidence.batched === undefined) {
      const t0 = performance.now();
      const gas = await withRetry(
        () =>
          attestOnce(ledger, fid, {
            participant: me,
            round,
            updateRoot: own.updateRoot,
            sampleCount: own.sampleCount,
            signature: own.signature,
          }),
        { what: `attest round ${round}`, log, signal },
      );
      if (gas > 0n) metrics.gasUsed.inc({ method: "attest" }, Number(gas));
      metrics.stepSeconds.observe({ step: "attest" }, (performance.now() - t0) / 1000);
      log.info(
        { round: Number(round), step: "attest", gas: Number(gas), ms: since(t0) },
        gas > 0n ? "attested on-chain" : "already attested on-chain",
      );
    }
    metrics.updatesPublished.inc();
    return own;
  }

  async function produceUpdate(round: bigint, evidence: FederationEvidence): Promise<OwnUpdate> {
    const t0 = performance.now();
    const cap = checkpointByteCap(federation.modelLength);
    const content = { getVerified: (cid: Parameters<typeof store.fetch>[0]) => store.fetch(cid, { maxBytes: cap, signal }) };
    const base = await withRetry(() => stateFromChain(ledger, fid, evidence, content), {
      what: `base model of round ${round}`,
      log,
      signal,
    });
    if (base.round !== round)
      throw new DsainError(ErrorCode.CHAIN_NOT_READY, `the chain moved on from round ${round} while its base model was read`);
    const tensors = await parentTensors(evidence, base.parentRound, cap);
    checkShape(tensors, dataset);
    metrics.stepSeconds.observe({ step: "fetch-base" }, (performance.now() - t0) / 1000);
    log.info(
      { round: Number(round), step: "fetch-base", parent: Number(base.parentRound), ms: since(t0) },
      "base model rebuilt from the chain",
    );

    const t1 = performance.now();
    tf ??= (await initTf()).tf;
    const update = await trainUpdate(tf, tensors, base.model, dataset, {
      train: { ...config.training, seed: trainingSeed(me, round) },
    });
    metrics.stepSeconds.observe({ step: "train" }, (performance.now() - t1) / 1000);
    log.info({ round: Number(round), step: "train", samples: Number(update.sampleCount), ms: since(t1) }, "trained");

    const t2 = performance.now();
    const file = encodeUpdateFile({ round: Number(round), participant: me, modelId: federation.modelId, tensors, values: update.delta });
    const cid = (await store.put(file)).toString();
    const updateRoot = await commitUpdate(update.delta);
    const dp = federation.dp;
    let signature = "0x";
    let eddsa: OwnUpdate["eddsa"];
    if (evidence.batched === undefined) {
      signature = await signUpdate(
        wallet,
        attestationDomain(ctx.chainId, config.ledger),
        { federationId: fid, round, baseModelRoot: base.modelRoot, dp },
        {
          updateRoot,
          sampleCount: update.sampleCount,
        },
      );
    } else {
      if (ctx.babyJub === undefined) {
        throw new DsainError(
          ErrorCode.CONFIG_INVALID,
          `federation ${fid} takes in-circuit attestations: give this participant its babyJubKeyFile`,
        );
      }
      const signed = await signUpdateEdDSA(ctx.babyJub, {
        scope: roundScope(ctx.chainId, config.ledger, fid, round),
        baseModelRoot: BigInt(base.modelRoot),
        update,
        dp,
      });
      eddsa = {
        meta: String(signed.meta),
        R8x: String(signed.signature.R8[0]),
        R8y: String(signed.signature.R8[1]),
        S: String(signed.signature.S),
      };
    }
    metrics.stepSeconds.observe({ step: "publish" }, (performance.now() - t2) / 1000);
    log.info({ round: Number(round), step: "publish", cid, bytes: file.length, ms: since(t2) }, "update stored on this node");
    return { cid, updateRoot, sampleCount: update.sampleCount, signature, ...(eddsa === undefined ? {} : { eddsa }) };
  }

  /** The parent checkpoint's tensor layout (already fetched and checked by stateFromChain, so read locally). */
  async function parentTensors(evidence: FederationEvidence, parent: bigint, cap: number): Promise<TensorSpec[]> {
    const record = parent === 0n ? undefined : evidence.rounds.find((r) => BigInt(r.round) === parent);
    const cid =
      record === undefined
        ? cidFromOnchain(evidence.config.genesisCidCodec, evidence.config.genesisCidDigest)
        : cidFromOnchain(record.cidCodec, record.cidDigest);
    return decodeCheckpoint(await store.fetch(cid, { maxBytes: cap, signal })).tensors;
  }

  async function announce(round: bigint, u: OwnUpdate): Promise<void> {
    const message: UpdateAnnouncement = {
      v: WIRE_VERSION,
      kind: "update",
      federationId: fid,
      round,
      participant: me,
      cid: u.cid,
      updateRoot: u.updateRoot,
      sampleCount: u.sampleCount,
      // On-chain attestation: the record's entry carries none (§11); in-circuit: the EdDSA signature.
      signature: "0x",
      ...(u.eddsa === undefined
        ? {}
        : { eddsa: { meta: BigInt(u.eddsa.meta), R8x: BigInt(u.eddsa.R8x), R8y: BigInt(u.eddsa.R8y), S: BigInt(u.eddsa.S) } }),
    };
    const recipients = await store.topics!.publish(topic, encodeWireMessage(message));
    log.debug({ round: Number(round), cid: u.cid, recipients }, "update announced");
  }
}

/** The federation's model must take this participant's samples: refused by name otherwise. */
function checkShape(tensors: readonly TensorSpec[], data: Dataset): void {
  const inputs = tensors[0]?.shape[0];
  if (inputs !== data.features) {
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `the federation's model takes ${inputs} inputs per sample; this participant's data has ${data.features} features: check data in its config`,
    );
  }
}
