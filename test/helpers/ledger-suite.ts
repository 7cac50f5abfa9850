// The shared ground of the ProvenanceLedger suites (test/contracts/ledger/): one Hardhat network for
// all of them, the federation fixture, and the refusal and lifecycle helpers every suite uses.
import { expect } from "chai";
import { network } from "hardhat";
import { Wallet } from "ethers";
import { rollbackDigest, signRollback } from "../../aggregator/protocol/index.js";
import {
  buildRound,
  federationFixture,
  post,
  prove,
  selectedWallets,
  snapshot,
  type BuiltRound,
  type Fixture,
  type FixtureOptions,
} from "./federation.js";

export const { ethers, networkHelpers } = await network.create();

/** BabyJubJub's Base8 generator: a valid point in the prime-order subgroup. */
export const BASE8: [bigint, bigint] = [
  5299619240641551281634865583518297030282874472190772894086521144482721001553n,
  16950150798460657717958625567821834550301663161624707787222815936182638968203n,
];

/** The order of BN254's base field, in which proof coordinates live (the scalar field is FIELD_MODULUS). */
export const BN254_BASE_FIELD = 21888242871839275222246405745257275088696311157297823662689037894645226208583n;

export const setup = (o: FixtureOptions = {}) => federationFixture(ethers, o);

/** Sends `call`, expects exactly `error` (with `args` when given) and an unchanged ledger. */
export async function expectRefused(f: Fixture, call: () => Promise<unknown>, error: string, args?: unknown[]) {
  const before = await snapshot(f);
  const assertion = expect(call()).to.be.revertedWithCustomError(f.ledger, error);
  if (args) await assertion.withArgs(...args);
  else await assertion;
  expect(await snapshot(f), `state or events changed after a refused call (${error})`).to.equal(before);
}

/** A refused creation leaves a fresh ledger without federations and without events. */
export async function expectNoFederation(ledger: any) {
  await expect(ledger.federation(1n)).to.be.revertedWithCustomError(ledger, "ProvenanceUnknownFederation").withArgs(1n);
  expect((await ledger.queryFilter("*")).filter((e: any) => e.eventName !== "RoleGranted")).to.deep.equal([]);
}

export const unselected = async (f: Fixture) => {
  const chosen = new Set((await selectedWallets(f)).map((w) => w.address));
  return f.rosterWallets.filter((w) => !chosen.has(w.address));
};

/** Posts, proves and finalizes the open round (after the finality delay). */
export async function completeRound(f: Fixture, o: Parameters<typeof buildRound>[1] = {}): Promise<BuiltRound> {
  const r = await buildRound(f, o);
  await (await post(f, r)).wait();
  await (await prove(f, r)).wait();
  await networkHelpers.time.increase(f.config.finalityDelay);
  await (await f.ledger.finalizeRound(1n, r.post.round)).wait();
  return r;
}

export async function status(f: Fixture, round: bigint): Promise<bigint> {
  return (await f.ledger.roundRecord(1n, round)).status;
}

/** Signs a rollback synchronously enough for a refusal thunk: ethers Wallet signing is deterministic. */
export function signRollbackSync(f: Fixture, member: number, m: Parameters<typeof signRollback>[2]): string {
  return (f.committee[member] as Wallet).signingKey.sign(rollbackDigest(f.domain, m)).serialized;
}

export async function selectedWalletsOf(f: Fixture, r: BuiltRound): Promise<Wallet[]> {
  return r.entries.map((e) => f.byAddress.get(e.participant)!);
}
