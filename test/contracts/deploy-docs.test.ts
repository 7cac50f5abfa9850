// The deployment commands of docs/deploy.md, run as written: every `npx hardhat ignition deploy`
// line of its code blocks runs as a child process from the project root against the chain it names.
// Hardhat's in-process network needs nothing; `--network localhost` and `--network anvil` get the
// node the page starts (its `npx hardhat node …` and `npx anvil` lines), on port 8545 when that port
// is free (the commands are then verbatim) and otherwise on a free port that DSAIN_LOCALHOST_URL
// passes to the config's `localhost` and `anvil` networks; `--network permissioned` gets anvil at
// zero gas (on the London EVM for `--build-profile london`, as GoQuorum), with the configuration
// variables and the confirmation as environment variables (the page says so) and the
// `path/to/…` placeholder replaced by an edited copy of the template. A change to the page that
// breaks a command, or a command this test cannot place, fails here.
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, readdir, rename, rm, rmdir, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { stripVTControlCharacters } from "node:util";
import { Wallet, keccak256, toUtf8Bytes, ZeroAddress } from "ethers";
import { PROJECT_ROOT } from "../../aggregator/paths.js";
import { freePort, startChain, stopChain, waitForRpc, type LocalChain } from "../helpers/processes.js";

const BIN = path.join(PROJECT_ROOT, "node_modules", ".bin");
const DOC = path.join(PROJECT_ROOT, "docs", "deploy.md");
const DEPLOYMENTS = path.join(PROJECT_ROOT, "ignition", "deployments");
const INSTANCES = path.join(PROJECT_ROOT, "cache", ".hardhat-network-instances.json");
const DOCS_PORT = 8545;
/** Chain ids of the permissioned stand-ins, chosen so their deployment ids meet no real journal. */
const CANCUN_CHAIN_ID = 73571;
const LONDON_CHAIN_ID = 73572;
const FUTURES = [
  "ProvenanceLedger#BatchedRounds",
  "ProvenanceLedger#FederationLogic",
  "ProvenanceLedger#ProvenanceLedger",
  "ProvenanceLedger#ProvenanceLedgerExtension",
  "RoundChunkVerifier#RoundChunkVerifier_4_1",
];
const COMMAND_TIMEOUT_MS = 300_000;

/** The commands of the fenced code blocks of a markdown page: `\` continuations joined, comments dropped. */
function codeBlockCommands(markdown: string): string[] {
  const commands: string[] = [];
  let inBlock = false;
  let pending = "";
  for (const raw of markdown.split("\n")) {
    if (/^\s*```/.test(raw)) {
      inBlock = !inBlock;
      pending = "";
      continue;
    }
    if (!inBlock) continue;
    const line = raw.replace(/(^|\s)#.*$/, "").trim();
    if (line.endsWith("\\")) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const command = (pending + line).trim();
    pending = "";
    if (command !== "") commands.push(command);
  }
  return commands;
}

/** Words of a plain command line (no quoting, expansion or redirection: the page has none). */
function words(command: string): string[] {
  if (/["'`$;|<>()]/.test(command)) throw new Error(`docs/deploy.md: shell syntax this test does not run: ${command}`);
  return command.split(/\s+/);
}

function option(argv: string[], name: string): string | undefined {
  const i = argv.indexOf(name);
  return i < 0 ? undefined : argv[i + 1];
}

const commands = codeBlockCommands(readFileSync(DOC, "utf8"));
const deployCommands = commands.filter((c) => c.startsWith("npx hardhat ignition deploy "));
/** Background commands (`… &`): the local nodes the page starts. */
const serverCommands = commands.filter((c) => c.endsWith("&")).map((c) => words(c.slice(0, -1).trim()));

/** The environment a user's shell would give: without what `hardhat test` sets for its own run. */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("HARDHAT_") || k === "HH_TEST" || k.startsWith("DSAIN_")) continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

async function exists(p: string): Promise<boolean> {
  return stat(p).then(
    () => true,
    () => false,
  );
}

async function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function rpc(url: string, method: string, params: unknown[]): Promise<any> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await res.json()) as { result?: unknown; error?: { message: string } };
  if (body.error !== undefined) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  output: string;
}

describe("docs/deploy.md: its `npx hardhat ignition deploy` commands run as written", function () {
  /** Commands running now: each leads a process group of its own (npx → npm exec → sh → node). */
  const running = new Set<ChildProcess>();
  /** The local node the page starts (`npx hardhat node`, `npx anvil`), one at a time on one port. */
  let local: { kind: string; chain: LocalChain } | undefined;
  let localPort = DOCS_PORT;
  let cancun: LocalChain | undefined;
  let london: LocalChain | undefined;
  let tmpDir: string | undefined;
  /** Journals of a user's own deployments with the ids this test writes: moved aside, then put back. */
  const setAside: Array<[string, string]> = [];
  let hadDeploymentsDir = true;
  let instancesBefore: string | undefined;
  const deployer = new Wallet(keccak256(toUtf8Bytes("dsain deploy-docs test: permissioned deployer")));

  /** Runs `argv` (argv[0] looked up in PATH) from the project root; stops its process group on timeout. */
  function run(argv: string[], env: NodeJS.ProcessEnv): Promise<Run> {
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0], argv.slice(1), { cwd: PROJECT_ROOT, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      running.add(child);
      let output = "";
      child.stdout!.setEncoding("utf8").on("data", (d: string) => (output += d));
      child.stderr!.setEncoding("utf8").on("data", (d: string) => (output += d));
      const timer = setTimeout(() => stopGroup(child), COMMAND_TIMEOUT_MS);
      child.once("error", (e) => {
        clearTimeout(timer);
        running.delete(child);
        reject(e);
      });
      child.once("close", (code, signal) => {
        clearTimeout(timer);
        running.delete(child);
        resolve({ code, signal, output: stripVTControlCharacters(output) });
      });
    });
  }

  /** SIGTERM to the process group this test's child leads (its PID): npx's children go with it. */
  function stopGroup(child: ChildProcess): void {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, "SIGTERM");
    } catch {
      // the group has exited already
    }
  }

  /** The page's command for this local node, from node_modules/.bin so that its PID is the node's. */
  async function startLocal(kind: "hardhat" | "anvil"): Promise<string> {
    if (local?.kind === kind) return local.chain.url;
    await stopChain(local?.chain);
    local = undefined;
    const argv = serverCommands.find((w) => w[0] === "npx" && w[1] === kind);
    expect(argv, `docs/deploy.md deploys to the ${kind} node but has no \`npx ${kind} … &\` line to start it`).to.not.equal(undefined);
    // `npx X` runs node_modules/.bin/X through `npm exec` and `sh`, whose PID is not the node's.
    const args = [...argv!.slice(2), ...(localPort === DOCS_PORT ? [] : ["--port", String(localPort)])];
    const child = spawn(path.join(BIN, kind), args, { cwd: PROJECT_ROOT, env: userEnv(), stdio: ["ignore", "ignore", "ignore"] });
    const chain = { url: `http://127.0.0.1:${localPort}`, process: child };
    local = { kind, chain };
    await waitForRpc(chain.url, child, 120_000);
    return chain.url;
  }

  /** The chain a command targets, started if need be, and what its process needs besides the command. */
  async function target(argv: string[]): Promise<{ url?: string; env: NodeJS.ProcessEnv; argv: string[] }> {
    const network = option(argv, "--network");
    const parameters = option(argv, "--parameters");
    expect(parameters, "each command names its parameters").to.be.a("string");
    if (network === undefined) return { env: userEnv(), argv };
    if (network === "localhost" || network === "anvil") {
      const url = await startLocal(network === "localhost" ? "hardhat" : "anvil");
      const env = userEnv(localPort === DOCS_PORT ? {} : { DSAIN_LOCALHOST_URL: url });
      return { url, env, argv };
    }
    if (network === "permissioned") {
      const chain = option(argv, "--build-profile") === "london" ? london! : cancun!;
      let args = argv;
      if (!(await exists(path.join(PROJECT_ROOT, parameters!)))) {
        // The page's placeholder for "your copy of the template": step 2 puts the addresses in it.
        expect(parameters, "a parameter file the page names exists, or is a path/to/… placeholder").to.match(/^path\/to\//);
        const template = await readFile(path.join(PROJECT_ROOT, "ignition", "parameters", "permissioned.json5"), "utf8");
        const edited = path.join(tmpDir!, path.basename(parameters!));
        await writeFile(edited, template.replaceAll(ZeroAddress, deployer.address));
        args = argv.map((w) => (w === parameters ? edited : w));
      }
      const env = userEnv({
        DSAIN_RPC_URL: chain.url,
        DSAIN_DEPLOYER_KEY: deployer.privateKey,
        HARDHAT_IGNITION_CONFIRM_DEPLOYMENT: "true",
      });
      return { url: chain.url, env, argv: args };
    }
    throw new Error(`docs/deploy.md deploys to network "${network}", for which this test has no chain`);
  }

  before(async function () {
    if (!(await portIsFree(DOCS_PORT))) localPort = await freePort();
    tmpDir = await mkdtemp(path.join(os.tmpdir(), "dsain-deploy-docs-"));
    hadDeploymentsDir = await exists(DEPLOYMENTS);
    instancesBefore = await readFile(INSTANCES, "utf8").catch(() => undefined);
    for (const id of ["chain-31337", `chain-${CANCUN_CHAIN_ID}`, `chain-${LONDON_CHAIN_ID}`]) {
      const dir = path.join(DEPLOYMENTS, id);
      if (!(await exists(dir))) continue;
      const aside = path.join(DEPLOYMENTS, `${id}.set-aside-by-deploy-docs-test-${process.pid}`);
      await rename(dir, aside);
      setAside.push([dir, aside]);
    }
    const anvil = path.join(BIN, "anvil");
    const zeroGas = (port: number, chainId: number) => [
      "--host",
      "127.0.0.1",
      "--port",
      String(port),
      "--silent",
      "--chain-id",
      String(chainId),
      "--base-fee",
      "0",
      "--gas-price",
      "0",
    ];
    [cancun, london] = await Promise.all([
      startChain(anvil, (port) => zeroGas(port, CANCUN_CHAIN_ID), PROJECT_ROOT),
      // GoQuorum's EVM is London's: no PUSH0 (Shanghai), MCOPY or transient storage (Cancun).
      startChain(anvil, (port) => [...zeroGas(port, LONDON_CHAIN_ID), "--hardfork", "london"], PROJECT_ROOT),
    ]);
  });

  after(async function () {
    for (const child of running) {
      const closed = new Promise((r) => child.once("close", r));
      stopGroup(child);
      await closed;
    }
    await Promise.all([stopChain(local?.chain), stopChain(cancun), stopChain(london)]);
    // `--build-profile london` left the london build in artifacts/: back to the default build.
    const rebuild = await run([path.join(BIN, "hardhat"), "build", "--quiet"], userEnv());
    for (const id of ["chain-31337", `chain-${CANCUN_CHAIN_ID}`, `chain-${LONDON_CHAIN_ID}`]) {
      await rm(path.join(DEPLOYMENTS, id), { recursive: true, force: true });
    }
    for (const [dir, aside] of setAside) await rename(aside, dir);
    if (!hadDeploymentsDir && (await exists(DEPLOYMENTS)) && (await readdir(DEPLOYMENTS)).length === 0) await rmdir(DEPLOYMENTS);
    if (instancesBefore === undefined) await rm(INSTANCES, { force: true });
    else await writeFile(INSTANCES, instancesBefore);
    if (tmpDir !== undefined) await rm(tmpDir, { recursive: true, force: true });
    expect(rebuild.code, `hardhat build after the london deployment:\n${rebuild.output}`).to.equal(0);
  });

  it("should find the deployments of the page: in-process, hardhat node, anvil, permissioned (cancun and london)", function () {
    const targets = deployCommands.map((c) => {
      const argv = words(c);
      return [option(argv, "--network") ?? "in-process", option(argv, "--build-profile") ?? "production"].join(" ");
    });
    expect(new Set(targets)).to.deep.equal(
      new Set(["in-process production", "localhost production", "anvil production", "permissioned production", "permissioned london"]),
    );
  });

  for (const command of deployCommands) {
    it(`should run: ${command}`, async function () {
      const { url, env, argv } = await target(words(command));
      const chainId = url === undefined ? undefined : Number(await rpc(url, "eth_chainId", []));
      const journal = chainId === undefined ? undefined : path.join(DEPLOYMENTS, `chain-${chainId}`);
      if (journal !== undefined) await rm(journal, { recursive: true, force: true });

      const result = await run(argv, env);
      expect(result.code, `exit code of ${command}\n${result.output}`).to.equal(0);
      const printed = Object.fromEntries([...result.output.matchAll(/^(\S+#\S+) - (0x[0-9a-fA-F]{40})$/gm)].map((m) => [m[1], m[2]]));
      expect(Object.keys(printed).sort(), `addresses printed by ${command}\n${result.output}`).to.deep.equal(FUTURES);

      if (journal === undefined) {
        // The in-process network ends with the command: Ignition keeps no journal for it.
        expect(await exists(path.join(DEPLOYMENTS, "chain-31337")), "a journal of the in-process deployment").to.equal(false);
        return;
      }
      const written = JSON.parse(await readFile(path.join(journal, "deployed_addresses.json"), "utf8")) as Record<string, string>;
      expect(written, `ignition/deployments/chain-${chainId}/deployed_addresses.json`).to.deep.equal(printed);
      for (const [future, address] of Object.entries(written)) {
        expect(await rpc(url!, "eth_getCode", [address, "latest"]), `code of ${future}`).to.not.equal("0x");
      }
      if (option(argv, "--network") === "permissioned") {
        expect(BigInt(await rpc(url!, "eth_getBalance", [deployer.address, "latest"])), "the deployer paid no gas").to.equal(0n);
        const buildInfos = (await readdir(path.join(journal, "build-info"))).filter((f) => f.endsWith(".json"));
        const evmVersions = await Promise.all(
          buildInfos.map(async (f) => JSON.parse(await readFile(path.join(journal, "build-info", f), "utf8")).input.settings.evmVersion),
        );
        expect(new Set(evmVersions)).to.deep.equal(new Set([option(argv, "--build-profile") === "london" ? "london" : "cancun"]));
      }
    });
  }
});
