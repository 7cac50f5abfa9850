// Minimal typings for the parts of circomlibjs this project uses (the package ships none).
declare module "circomlibjs" {
  export interface FiniteField {
    toObject(element: Uint8Array): bigint;
    e(value: bigint | number | string): Uint8Array;
  }
  export interface Poseidon {
    (inputs: Array<bigint | number | string>): Uint8Array;
    F: FiniteField;
  }
  export function buildPoseidon(): Promise<Poseidon>;
  export interface BabyJub {
    F: FiniteField;
  }
  export function buildBabyjub(): Promise<BabyJub>;
}
