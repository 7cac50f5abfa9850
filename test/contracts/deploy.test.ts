// Deployment over JSON-RPC to processes this test starts on 127.0.0.1: a `hardhat node`, anvil (an
// independent EVM implementation), anvil with a zero base fee standing in for a free-gas
// permissioned chain, and anvil on the London EVM standing in for GoQuorum. Each gets the full stack
// through the Ignition modules and the parameter file of ignition/parameters/, then a federation
// runs a round over JSON-RPC; on anvil the whole demo (training, Groth16 proofs verified on-chain,
// audit) runs too.
import { expect } from "chai";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Wallet, keccak256, toUtf8Bytes, ZeroHash } from "ethers";
import { readDeploymentParameters } from "@nomicfoundation/hardhat-ignition/helpers";
import { openChain, type ChainSession } from "../../aggregator/adapters/chain/hardhat.js";
import { LEDGER_ABI } from "../../aggregator/adapters/chain/abi.js";
import { LedgerClient } from "../../aggregator/adapters/chain/ledger.js";
import { AggregationRule, NO_DP, NO_PREDECESSOR, RoundStatus, pkhDid } from "../../aggregator/protocol/evidence.js";
import { signRecord } from "../../aggregator/adapters/chain/records.js";
import { DEMO_DEFAULTS, runDemo } from "../../aggregator/demo/demo.js";
import { attestationDomain, fieldToBytes32 } from "../../aggregator/protocol/index.js";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { AGGREGATOR_ROLE } from "../../ignition/modules/Dsain.js";
import { startChain, stopChain, type LocalChain } from "../helpers/processes.js";
import { CODE_SIZE_BUDGET, artifactSizes, readSizeTable } from "../../scripts/gen-code-sizes.js";
import { fedAvgExact, INITIAL_REPUTATION_MICROS } from "../../aggregator/maths/robust/exact-rule.js";
import { proposeRecord, readSelection, recordEntries } from "../../aggregator/roles/aggregator.js";
import { signUpdate } from "../../aggregator/roles/participant.js";
import { postRecord } from "../../aggregator/roles/poster.js";

const BIN = path.join(PROJECT_ROOT, "node_modules", ".bin");
const PARAMETERS = path.join(PROJECT_ROOT, "ignition", "parameters");
const key = (label: string) => new Wallet(keccak256(toUtf8Bytes(`dsain deploy test: ${label}`)));

/** Deploys Dsain with `parameters` and runs one batched round against the deployed ledger. */
async function deployAndRunRound(chain: ChainSession, parameters: string | object, deploymentId: string) {
  const { default: DsainModule } = await import("../../ignition/modules/Dsain.js");
  const deployed = await chain.connection.ignition.deploy(DsainModule, { parameters, deploymentId });
  const ledgerAddress: string = await deployed.ledger.getAddress();
  const verifierAddress: string = await deployed.verifier.getAddress();
  const params = (typeof parameters === "string" ? await readDeploymentParameters(parameters) : parameters) as {
    ProvenanceLedger: { admin: string; aggregator: string };
  };
  const { admin, aggregator } = params.ProvenanceLedger;
  expect(await deployed.ledger.hasRole(ZeroHash, admin), "admin role").to.equal(true);
  expect(await deployed.ledger.hasRole(AGGREGATOR_ROLE, aggregator), "aggregator role").to.equal(true);

  const signers = await chain.ethers.getSigners();
  const adminSigner = signers.find((s: { address: string }) => s.address === admin)!;
  const aggregatorSigner = signers.find((s: { address: string }) => s.address === aggregator)!;
  const asAdmin = new LedgerClient(ledgerAddress, LEDGER_ABI, adminSigner);
  const asAggregator = new LedgerClient(ledgerAddress, LEDGER_ABI, aggregatorSigner);
  const chainId: bigint = (await chain.ethers.provider.getNetwork()).chainId;
  const roster = Array.from({ length: 6 }, (_, i) => key(`participant ${i}`));
  const committee = [key("aggregator 0"), key("aggregator 1"), key("aggregator 2")];
  const genesisRoot = fieldToBytes32(1234567n);
  const { federationId } = await asAdmin.createFederation(
    {
      modelId: "deploy-test",
      modelLength: 212,
      participantsPerRound: 4,
      minUpdates: 4,
      quorum: 2,
      roundDeadline: 3600,
      finalityDelay: 0,
      genesisCidCodec: 0x55,
      verifier: verifierAddress,
      epsilonBudgetMicros: 1_000_000n,
      aggregation: { rule: AggregationRule.FedAvg, tauMicros: 0n, reputationDecayMicros: 0n },
      dp: NO_DP,
      committee: committee.map((w) => w.address),
      verifyingKeyHash: await deployed.verifier.VERIFYING_KEY_HASH(),
      genesisModelRoot: genesisRoot,
      genesisCidDigest: keccak256(toUtf8Bytes("genesis")),
      predecessor: NO_PREDECESSOR,
    },
    roster.map((w) => ({ signer: w.address, did: pkhDid(chainId, w.address), babyJubJubKey: [0n, 0n] as [bigint, bigint] })),
  );
  // Round 1 through the round library's steps (fake update roots: the ledger never sees the vectors).
  const { addresses: chosen } = await readSelection(
    asAdmin,
    federationId,
    roster.map((w) => w.address),
    4,
  );
  const domain = attestationDomain(chainId, ledgerAddress);
  const ctx = { federationId, round: 1n, baseModelRoot: genesisRoot };
  const updates = [];
  for (const [i, a] of chosen.entries()) {
    const u = { participant: a, updateRoot: fieldToBytes32(BigInt(1000 + i)), sampleCount: BigInt(10 + i) };
    updates.push({
      ...u,
      signature: await signUpdate(
        roster.find((x) => x.address === a)!,
        domain,
        ctx,
        u,
      ),
    });
  }
  const decision = fedAvgExact.decide({
    participants: chosen,
    sampleCounts: updates.map((u) => u.sampleCount),
    reputationsBefore: chosen.map(() => INITIAL_REPUTATION_MICROS),
  });
  const entries = recordEntries(updates, decision, new Map(), NO_DP);
  const record = proposeRecord(
    federationId,
    { round: 1n, parentRound: 0n },
    { modelRoot: fieldToBytes32(7654321n), cidCodec: 0x55, cidDigest: keccak256(toUtf8Bytes("round 1")) },
    entries,
  );
  const posted = await postRecord(
    asAggregator,
    federationId,
    record,
    entries,
    await signRecord(committee.slice(0, 2), domain, record.message),
  );
  expect(posted.sent).to.equal(true);

  const evidence = await asAdmin.readEvidence(federationId, chain.ethers.provider);
  expect(evidence.chainId).to.equal(chainId);
  expect(evidence.rounds.map((r) => [r.round, r.status, r.commitment])).to.deep.equal([[1, "Attested", record.post.commitment]]);
  expect(evidence.rounds[0].updates.map((u) => u.signature)).to.deep.equal(entries.map((e) => e.signature));
  expect(Number((await asAdmin.roundRecord(federationId, 1n)).status)).to.equal(RoundStatus.Attested);
  return { ledgerAddress, chainId };
}

describe("deployment over JSON-RPC (hardhat node, anvil, zero-gas anvil, London anvil)", function () {
  let hardhatNode: LocalChain | undefined;
  let anvil: LocalChain | undefined;
  let freeGas: LocalChain | undefined;
  let london: LocalChain | undefined;
  const sessions: ChainSession[] = [];
  const deploymentIds: string[] = [];
  const tmpDirs: string[] = [];

  before(async function () {
    [hardhatNode, anvil, freeGas, london] = await Promise.all([
      startChain(path.join(BIN, "hardhat"), (port) => ["node", "--hostname", "127.0.0.1", "--port", String(port)], PROJECT_ROOT),
      startChain(path.join(BIN, "anvil"), (port) => ["--host", "127.0.0.1", "--port", String(port), "--silent"], PROJECT_ROOT),
      startChain(
        path.join(BIN, "anvil"),
        (port) => ["--host", "127.0.0.1", "--port", String(port), "--silent", "--chain-id", "1337", "--base-fee", "0", "--gas-price", "0"],
        PROJECT_ROOT,
      ),
      // GoQuorum's EVM is London's: no PUSH0 (Shanghai), MCOPY or transient storage (Cancun).
      startChain(
        path.join(BIN, "anvil"),
        (port) => [
          ...["--host", "127.0.0.1", "--port", String(port), "--silent", "--chain-id", "1338"],
          ...["--hardfork", "london", "--base-fee", "0", "--gas-price", "0"],
        ],
        PROJECT_ROOT,
      ),
    ]);
  });

  after(async function () {
    for (const s of sessions) await s.close();
    await Promise.all([stopChain(hardhatNode), stopChain(anvil), stopChain(freeGas), stopChain(london)]);
    for (const id of deploymentIds) await rm(path.join(PROJECT_ROOT, "ignition", "deployments", id), { recursive: true, force: true });
    for (const d of tmpDirs) await rm(d, { recursive: true, force: true });
  });

  async function session(url: string, network = "rpc", accounts?: string[]): Promise<ChainSession> {
    const s = await openChain({ rpcUrl: url, network, accounts });
    sessions.push(s);
    return s;
  }

  const id = (what: string) => {
    const x = `dsain-deploy-test-${what}-${process.pid}-${Date.now()}`;
    deploymentIds.push(x);
    return x;
  };

  it("should deploy the full stack to a hardhat node with ignition/parameters/localhost.json", async function () {
    const { chainId } = await deployAndRunRound(
      await session(hardhatNode!.url),
      path.join(PARAMETERS, "localhost.json"),
      id("hardhat-node"),
    );
    expect(chainId).to.equal(31337n);
  });

  it("should deploy the full stack to anvil with ignition/parameters/anvil.json", async function () {
    await deployAndRunRound(await session(anvil!.url), path.join(PARAMETERS, "anvil.json"), id("anvil"));
  });

  it("should run the whole demo on anvil: proofs verified by anvil's EVM, audit PASS", async function () {
    const dir = await mkdtemp(path.join(os.tmpdir(), "dsain-anvil-demo-"));
    tmpDirs.push(dir);
    const result = await runDemo({ ...DEMO_DEFAULTS, epochs: 1, workDir: dir, rpcUrl: anvil!.url });
    if (result.deploymentId) deploymentIds.push(result.deploymentId);
    expect(result.audit?.ok, result.audit?.lines.join("\n")).to.equal(true);
    expect(result.audit?.report.finalized).to.equal(2);
  });

  it("should deploy the permissioned template at zero gas price from an account holding no ether", async function () {
    const template = (await readDeploymentParameters(path.join(PARAMETERS, "permissioned.json5"))) as {
      ProvenanceLedger: { admin: string; aggregator: string };
    };
    // The template is inert until edited: both roles are the zero address, which the ledger refuses.
    expect(template.ProvenanceLedger).to.deep.equal({
      admin: "0x0000000000000000000000000000000000000000",
      aggregator: "0x0000000000000000000000000000000000000000",
    });
    const deployer = key("permissioned deployer");
    const chain = await session(freeGas!.url, "permissioned", [deployer.privateKey]);
    expect(await chain.ethers.provider.getBalance(deployer.address)).to.equal(0n);
    const edited = { ProvenanceLedger: { admin: deployer.address, aggregator: deployer.address } };
    await deployAndRunRound(chain, edited, id("permissioned"));
    expect(await chain.ethers.provider.getBalance(deployer.address)).to.equal(0n);
  });

  it("should deploy the `london` build profile at zero gas price to anvil on the London EVM, where the default build fails", async function () {
    const { default: DsainModule } = await import("../../ignition/modules/Dsain.js");
    // The default (Cancun) build uses PUSH0, which a London chain does not have: its deployment fails.
    const first = key("london deployer, default build");
    const cancun = await session(london!.url, "permissioned", [first.privateKey]);
    let failure = "";
    try {
      await cancun.connection.ignition.deploy(DsainModule, {
        parameters: { ProvenanceLedger: { admin: first.address, aggregator: first.address } },
        deploymentId: id("london-default-build"),
      });
    } catch (e) {
      failure = (e as Error).message;
    }
    expect(failure, "the default build deployed to a London chain").to.match(/NotActivated|invalid opcode|PUSH0/i);

    // `--build-profile london`, built beside the project's artifacts (which stay the default build).
    const dir = await mkdtemp(path.join(os.tmpdir(), "dsain-london-build-"));
    tmpDirs.push(dir);
    const deployer = key("london deployer");
    const chain = await openChain({
      rpcUrl: london!.url,
      network: "permissioned",
      accounts: [deployer.privateKey],
      buildProfile: "london",
      buildDir: dir,
    });
    sessions.push(chain);
    const buildInfoPath = await chain.hre.artifacts.getBuildInfoPath(await chain.hre.artifacts.getBuildInfoId("ProvenanceLedger"));
    expect(buildInfoPath.startsWith(dir), "the london build stays in its own directory").to.equal(true);
    const buildInfo = JSON.parse(await readFile(buildInfoPath, "utf8"));
    expect(buildInfo.input.settings.evmVersion).to.equal("london");
    // Every deployed contract's london code: 4 KB under EIP-170, and as docs/deploy.md's table says.
    const table = new Map((await readSizeTable()).map((r) => [r.contract, r.london]));
    for (const [contract, size] of await artifactSizes((n) => chain.hre.artifacts.readArtifact(n))) {
      expect(size, `${contract}: the london build's code size`).to.be.at.most(CODE_SIZE_BUDGET);
      expect(size, `${contract}: docs/deploy.md is stale (npm run generate:code-sizes)`).to.equal(table.get(contract));
    }
    const edited = { ProvenanceLedger: { admin: deployer.address, aggregator: deployer.address } };
    const { chainId } = await deployAndRunRound(chain, edited, id("london"));
    expect(chainId).to.equal(1338n);
    expect(await chain.ethers.provider.getBalance(deployer.address)).to.equal(0n);
  });

  it("should refuse an unknown build profile by name", async function () {
    let failure = "";
    try {
      await openChain({ rpcUrl: london!.url, buildProfile: "berlin" });
    } catch (e) {
      failure = (e as Error).message;
    }
    expect(failure).to.contain(`unknown build profile "berlin"`).and.to.contain("london");
  });

  it("should refuse to deploy the unedited permissioned template", async function () {
    const chain = await session(freeGas!.url, "permissioned", [key("permissioned deployer").privateKey]);
    const { default: DsainModule } = await import("../../ignition/modules/Dsain.js");
    let failure = "";
    try {
      await chain.connection.ignition.deploy(DsainModule, {
        parameters: path.join(PARAMETERS, "permissioned.json5"),
        deploymentId: id("unedited"),
      });
    } catch (e) {
      failure = (e as Error).message;
    }
    expect(failure).to.contain(`ProvenanceZeroAddress("admin")`);
  });
});
