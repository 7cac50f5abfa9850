// `dsain zk`: production Groth16 keys by a phase-2 ceremony (aggregator/adapters/proof/ceremony.ts): setup from
// an external powers of tau pinned by sha256, contributions, verification, beacon, export.
import path from "node:path";
import type { Command } from "commander";
import { nonNegativeInt } from "./args.js";

const ceremony = () => import("../../aggregator/adapters/proof/ceremony.js");
const log = (m: string) => console.error(m);

export function register(program: Command): void {
  const zk = program
    .command("zk")
    .description("production Groth16 keys: a phase-2 ceremony over an external powers of tau (setup, contribute, verify, beacon, export)");

  zk.command("setup")
    .description("compile a circuits/circuits.json instance and write the ceremony's initial zkey into --dir")
    .argument("<instance>", "circuit instance, e.g. RoundAttested_8-11-0-1-6")
    .requiredOption("--ptau <file>", "prepared powers of tau from a public ceremony (e.g. the Hermez/Polygon pot files)")
    .requiredOption("--ptau-sha256 <hex>", "pinned sha256 of that file; anything else is refused")
    .requiredOption("--dir <dir>", "ceremony directory (created; must not hold a ceremony)")
    .action(async (instance: string, o) => {
      const { ceremonySetup } = await ceremony();
      const m = await ceremonySetup({ instance, dir: path.resolve(o.dir), ptauPath: path.resolve(o.ptau), ptauSha256: o.ptauSha256, log });
      console.log(
        `${m.instance}: ${m.circuit.constraints} constraints, 2^${m.circuit.power} domain; initial zkey ${m.steps[0].file} (sha256 ${m.steps[0].sha256}).`,
      );
      console.log(
        "Next: each party runs `dsain zk contribute --dir <dir> --name <who>` in turn, then `zk verify`, `zk beacon`, `zk export`.",
      );
    });

  zk.command("contribute")
    .description("add one phase-2 contribution to the ceremony in --dir (run by each party in turn)")
    .requiredOption("--dir <dir>", "ceremony directory")
    .requiredOption("--name <name>", "contributor's public name, recorded in the zkey")
    .option("--entropy <text>", "extra entropy mixed with the system CSPRNG (default: 64 fresh random bytes; $DSAIN_ZK_ENTROPY also works)")
    .action(async (o) => {
      const { ceremonyContribute } = await ceremony();
      const step = await ceremonyContribute({
        dir: path.resolve(o.dir),
        name: o.name,
        entropy: o.entropy ?? process.env.DSAIN_ZK_ENTROPY,
        log,
      });
      console.log(`contribution ${step.index} by "${step.name}": ${step.file}`);
      console.log(`contribution hash (publish it): ${step.contributionHash}`);
    });

  zk.command("verify")
    .description(
      "snarkjs zkey verify: check every contribution of a zkey against the r1cs and the pinned powers of tau; exits 1 if invalid",
    )
    .requiredOption("--dir <dir>", "ceremony directory")
    .requiredOption("--ptau <file>", "the powers of tau the setup pinned (its sha256 is checked)")
    .option("--zkey <file>", "zkey to verify (default: the ceremony's latest)")
    .option("--verbose", "print snarkjs' report with every contribution hash")
    .action(async (o) => {
      const { ceremonyVerify } = await ceremony();
      const r = await ceremonyVerify({
        dir: path.resolve(o.dir),
        ptauPath: path.resolve(o.ptau),
        zkeyPath: o.zkey ? path.resolve(o.zkey) : undefined,
        verbose: Boolean(o.verbose),
        log,
      });
      console.log(`${path.basename(r.zkeyPath)} (sha256 ${r.zkeySha256}): ${r.ok ? "VALID" : "INVALID"}`);
      process.exitCode = r.ok ? 0 : 1;
    });

  zk.command("beacon")
    .description("close the ceremony with a public random beacon (e.g. a future block hash announced in advance)")
    .requiredOption("--dir <dir>", "ceremony directory")
    .requiredOption("--hash <hex>", "beacon value, hex")
    .option("--iterations <exp>", "log2 of the hash iterations, 10..63", nonNegativeInt("--iterations"), 10)
    .option("--name <name>", "name recorded for the beacon", "DSAIN final beacon")
    .action(async (o) => {
      const { ceremonyBeacon } = await ceremony();
      const step = await ceremonyBeacon({ dir: path.resolve(o.dir), beaconHash: o.hash, iterationsExp: o.iterations, name: o.name, log });
      console.log(`final zkey ${step.file} (sha256 ${step.sha256}); verify it with \`dsain zk verify\` before exporting`);
    });

  zk.command("export")
    .description("write the Solidity verifier and vkey.json of the verified final zkey and print the verifying-key hash to pin on-chain")
    .requiredOption("--dir <dir>", "ceremony directory")
    .option("--out <file>", "where to write the verifier (default: <dir>/<Verifier>.sol)")
    .option("--allow-without-beacon", "export the latest verified contribution even though no beacon closed the ceremony")
    .action(async (o) => {
      const { ceremonyExport } = await ceremony();
      const r = await ceremonyExport({
        dir: path.resolve(o.dir),
        out: o.out ? path.resolve(o.out) : undefined,
        allowWithoutBeacon: Boolean(o.allowWithoutBeacon),
        log,
      });
      console.log(`verifier: ${r.verifierPath}`);
      console.log(`verifying-key hash: ${r.vkeyHash}`);
    });
}
