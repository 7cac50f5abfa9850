// The ledger's ABI as committed (`npm run generate:abi`, checked against the compiled contracts by
// test/contracts/abi.test.ts): what the chain adapter speaks, with no Hardhat at run time.
import { createRequire } from "node:module";
import type { InterfaceAbi } from "ethers";

export const LEDGER_ABI: InterfaceAbi = createRequire(import.meta.url)("./abi/ProvenanceLedger.json");
