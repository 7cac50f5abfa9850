// Child processes the devnet (and the tests) start and stop: a free port on 127.0.0.1, waiting for
// a JSON-RPC endpoint, a process whose first stdout line is a JSON ready report, and stopping one
// process by its PID, never by name.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream } from "node:fs";
import net from "node:net";

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function waitForRpc(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${child.spawnfile} exited with ${child.exitCode} before answering at ${url}`);
    try {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] }),
      });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${child.spawnfile} did not answer at ${url} within ${timeoutMs} ms`);
}

export interface ReadyProcess<T> {
  process: ChildProcess;
  /** The first stdout line, parsed as JSON: the process's own report that it is ready. */
  ready: T;
  /** Everything the process wrote on stdout so far, the ready line included. */
  stdout(): string;
  /** Everything the process wrote on stderr so far (for failure messages). */
  stderr(): string;
}

/** Spawns `command args…` and waits for its first stdout line (JSON); stdout after it is kept in `lines()`. */
export async function startReady<T>(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; logFile?: string },
  timeoutMs = 60_000,
): Promise<ReadyProcess<T>> {
  const script = args.find((a) => !a.startsWith("-")) ?? command;
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  let out = "";
  const file = options.logFile === undefined ? undefined : createWriteStream(options.logFile, { flags: "a" });
  child.once("exit", () => file?.end());
  child.stderr!.on("data", (chunk: Buffer) => {
    err += chunk.toString();
    file?.write(chunk);
  });
  child.stdout!.on("data", (chunk: Buffer) => {
    out += chunk.toString();
    file?.write(chunk);
  });
  const ready = await new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} printed no ready line within ${timeoutMs} ms; stderr: ${err}`)), timeoutMs);
    const onData = (): void => {
      const nl = out.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      child.stdout!.off("data", onData);
      child.off("exit", onExit);
      try {
        resolve(JSON.parse(out.slice(0, nl)) as T);
      } catch {
        reject(new Error(`${script} printed a ready line that is not JSON: ${out.slice(0, nl)}`));
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code ?? signal}) before it was ready; stderr: ${err}`));
    };
    child.stdout!.on("data", onData);
    child.once("exit", onExit);
  });
  return { process: child, ready, stdout: () => out, stderr: () => err };
}

/** Sends `signal` to this one PID (never by name) and waits for it to exit; resolves with its exit code or signal. */
export async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = "SIGTERM"): Promise<number | string | null> {
  if (child === undefined) return null;
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode ?? child.signalCode;
  const exited = new Promise<number | string | null>((r) => child.once("exit", (code, sig) => r(code ?? sig)));
  child.kill(signal);
  return exited;
}

export interface LocalChain {
  url: string;
  process: ChildProcess;
}

/** Starts `command args… --port <free port>`-style chains; `portArgs` builds the port flags. */
export async function startChain(command: string, args: (port: number) => string[], cwd: string, timeoutMs = 60_000): Promise<LocalChain> {
  const port = await freePort();
  const child = spawn(command, args(port), { cwd, stdio: ["ignore", "ignore", "pipe"] });
  const url = `http://127.0.0.1:${port}`;
  await waitForRpc(url, child, timeoutMs);
  return { url, process: child };
}

/** SIGTERM to this one PID, then waits for it to exit. */
export async function stopChain(chain: LocalChain | undefined): Promise<void> {
  const child = chain?.process;
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}
