// Chain adapter: typed calls into ProvenanceLedger and the event history an auditor rebuilds from.
import { Contract, type ContractRunner, type InterfaceAbi, type Provider, type TransactionReceipt } from "ethers";
import { DsainError, ErrorCode } from "../errors.js";

export interface DpParams {
  epsilonMicros: bigint;
  deltaPicos: bigint;
  clipMicros: bigint;
  noiseMicros: bigint;
}

export const NO_DP: DpParams = { epsilonMicros: 0n, deltaPicos: 0n, clipMicros: 0n, noiseMicros: 0n };

export interface FederationConfig {
  modelId: string;
  modelLength: number;
  participantsPerRound: number;
  verifier: string;
  verifyingKeyHash: string;
  genesisModelRoot: string;
  genesisCidCodec: number;
  genesisCidDigest: string;
}

export interface SignedUpdate {
  participant: string;
  updateRoot: string;
  sampleCount: bigint;
  weight: number;
  dp: DpParams;
  signature: string;
}

export interface RoundPost {
  round: bigint;
  modelRoot: string;
  cidCodec: number;
  cidDigest: string;
  commitment: string;
}

export interface SolidityProof {
  a: [bigint, bigint];
  b: [[bigint, bigint], [bigint, bigint]];
  c: [bigint, bigint];
}

/** What the chain says about one round, from events alone. */
export interface RoundEvidence {
  round: number;
  blockNumber: number;
  commitment: string;
  modelRoot: string;
  cidCodec: number;
  cidDigest: string;
  participantsRoot: string;
  updatesDigest: string;
  challengeSeed: string;
  updates: SignedUpdate[];
  proof?: SolidityProof;
}

export interface FederationEvidence {
  chainId: bigint;
  ledger: string;
  federationId: bigint;
  config: FederationConfig;
  genesisCommitment: string;
  participants: string[];
  rounds: RoundEvidence[];
}

/** Wraps a deployed ProvenanceLedger; `abi` comes from the Hardhat artifact. */
export class LedgerClient {
  readonly contract: Contract;

  constructor(address: string, abi: InterfaceAbi, runner: ContractRunner) {
    this.contract = new Contract(address, abi, runner);
  }

  get address(): string {
    return this.contract.target as string;
  }

  private async send(what: string, call: () => Promise<{ wait(): Promise<TransactionReceipt | null> }>): Promise<TransactionReceipt> {
    try {
      const tx = await call();
      const receipt = await tx.wait();
      if (receipt === null) throw new Error("no receipt");
      return receipt;
    } catch (e) {
      const decoded = this.describeRevert(e);
      throw new DsainError(ErrorCode.CHAIN_FAILURE, `${what} was refused by the ledger: ${decoded}`, { cause: e });
    }
  }

  /** Names the custom error of a revert when the ledger's ABI knows it. */
  describeRevert(e: unknown): string {
    const data = (e as { data?: string }).data ?? (e as { error?: { data?: string } }).error?.data;
    if (typeof data === "string") {
      const parsed = this.contract.interface.parseError(data);
      if (parsed !== null) return `${parsed.name}(${parsed.args.map(String).join(", ")})`;
    }
    return e instanceof Error ? e.message : String(e);
  }

  async createFederation(config: FederationConfig): Promise<{ federationId: bigint; receipt: TransactionReceipt }> {
    const receipt = await this.send("createFederation", () => this.contract.createFederation(config));
    for (const log of receipt.logs) {
      const parsed = this.contract.interface.parseLog(log);
      if (parsed?.name === "FederationCreated") return { federationId: parsed.args.federationId as bigint, receipt };
    }
    throw new DsainError(ErrorCode.CHAIN_FAILURE, "createFederation emitted no FederationCreated event");
  }

  async enrol(federationId: bigint, participant: string): Promise<TransactionReceipt> {
    return this.send(`enrol(${participant})`, () => this.contract.enrol(federationId, participant));
  }

  async postRound(federationId: bigint, post: RoundPost, updates: SignedUpdate[]): Promise<TransactionReceipt> {
    return this.send(`postRound(round ${post.round})`, () => this.contract.postRound(federationId, post, updates));
  }

  async proveRound(federationId: bigint, round: bigint, proof: SolidityProof): Promise<TransactionReceipt> {
    return this.send(`proveRound(round ${round})`, () => this.contract.proveRound(federationId, round, proof.a, proof.b, proof.c));
  }

  async publicInputs(federationId: bigint, round: bigint): Promise<bigint[]> {
    return (await this.contract.publicInputs(federationId, round)) as bigint[];
  }

  async roundRecord(
    federationId: bigint,
    round: bigint,
  ): Promise<{ commitment: string; modelRoot: string; status: bigint; challengeSeed: string }> {
    return this.contract.roundRecord(federationId, round);
  }

  /** Rebuilds a federation's history from the ledger's events (no storage reads but the chain id). */
  async readEvidence(federationId: bigint, provider: Provider): Promise<FederationEvidence> {
    const c = this.contract;
    const created = await c.queryFilter(c.filters.FederationCreated(federationId));
    if (created.length !== 1) {
      throw new DsainError(
        ErrorCode.AUDIT_FAILED,
        `federation ${federationId}: expected one FederationCreated event at ${this.address}, found ${created.length}`,
      );
    }
    const createdArgs = (created[0] as unknown as { args: any }).args;
    const cfg = createdArgs.config;
    const config: FederationConfig = {
      modelId: cfg.modelId,
      modelLength: Number(cfg.modelLength),
      participantsPerRound: Number(cfg.participantsPerRound),
      verifier: cfg.verifier,
      verifyingKeyHash: cfg.verifyingKeyHash,
      genesisModelRoot: cfg.genesisModelRoot,
      genesisCidCodec: Number(cfg.genesisCidCodec),
      genesisCidDigest: cfg.genesisCidDigest,
    };
    const enrolled = await c.queryFilter(c.filters.ParticipantEnrolled(federationId));
    const posted = await c.queryFilter(c.filters.RoundPosted(federationId));
    const attested = await c.queryFilter(c.filters.UpdateAttested(federationId));
    const proven = await c.queryFilter(c.filters.RoundProven(federationId));
    const args = (e: unknown) => (e as { args: any }).args;

    const rounds: RoundEvidence[] = posted.map((e) => {
      const a = args(e);
      return {
        round: Number(a.round),
        blockNumber: e.blockNumber,
        commitment: a.commitment,
        modelRoot: a.modelRoot,
        cidCodec: Number(a.cidCodec),
        cidDigest: a.cidDigest,
        participantsRoot: a.participantsRoot,
        updatesDigest: a.updatesDigest,
        challengeSeed: a.challengeSeed,
        updates: [],
      };
    });
    const byRound = new Map(rounds.map((r) => [r.round, r]));
    for (const e of attested) {
      const a = args(e);
      const r = byRound.get(Number(a.round));
      if (r === undefined) continue;
      r.updates.push({
        participant: a.participant,
        updateRoot: a.updateRoot,
        sampleCount: a.sampleCount,
        weight: Number(a.weight),
        dp: { epsilonMicros: a.dp.epsilonMicros, deltaPicos: a.dp.deltaPicos, clipMicros: a.dp.clipMicros, noiseMicros: a.dp.noiseMicros },
        signature: a.signature,
      });
    }
    for (const e of proven) {
      const a = args(e);
      const r = byRound.get(Number(a.round));
      if (r === undefined) continue;
      r.proof = {
        a: [a.a[0], a.a[1]],
        b: [
          [a.b[0][0], a.b[0][1]],
          [a.b[1][0], a.b[1][1]],
        ],
        c: [a.c[0], a.c[1]],
      };
    }
    rounds.sort((x, y) => x.round - y.round);
    return {
      chainId: (await provider.getNetwork()).chainId,
      ledger: this.address,
      federationId,
      config,
      genesisCommitment: createdArgs.genesisCommitment,
      participants: enrolled.map((e) => args(e).participant as string),
      rounds,
    };
  }
}
