// Poseidon over BN254 (circomlib parameters), shared with the circuits; loaded once, lazily.
import type { Poseidon } from "circomlibjs";

let instance: Promise<Poseidon> | undefined;

async function poseidonInstance(): Promise<Poseidon> {
  instance ??= import("circomlibjs").then((m) => m.buildPoseidon());
  return instance;
}

/** A Poseidon hasher bound to its field, so hot loops avoid an await per call. */
export interface PoseidonHasher {
  hash(inputs: readonly bigint[]): bigint;
}

export async function getPoseidon(): Promise<PoseidonHasher> {
  const p = await poseidonInstance();
  return { hash: (inputs) => p.F.toObject(p(inputs as bigint[])) };
}
