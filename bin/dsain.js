#!/usr/bin/env node
// Entry point of the `dsain` command: checks the Node version, then runs the TypeScript CLI via tsx.
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  console.error(
    `dsain needs Node >= 22.13 (Hardhat 3 and Helia 7 do); this is Node ${process.versions.node}.\n` +
      "Run it through npm, which uses the project's pinned Node 22: `npm run dsain -- <command>` (or `npm run demo`).",
  );
  process.exit(2); // an environment dsain cannot run in (README: exit codes)
}
const { register } = await import("tsx/esm/api");
register();
await import("../scripts/cli.ts");
