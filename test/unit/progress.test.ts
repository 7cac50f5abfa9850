// The CLI's progress lines: a phase announced with "..." shows its elapsed time on a terminal until
// the next line, and nothing but the lines off a terminal.
import { PassThrough } from "node:stream";
import { expect } from "chai";
import { progressLog } from "../../scripts/commands/progress.js";

/** A writable stream that says it is (or is not) a terminal, collecting what is written to it. */
function stream(isTTY: boolean): { s: NodeJS.WriteStream; text: () => string } {
  const s = new PassThrough() as unknown as NodeJS.WriteStream & PassThrough;
  Object.assign(s, { isTTY, columns: 80, rows: 24 });
  const chunks: Buffer[] = [];
  s.on("data", (c: Buffer) => chunks.push(c));
  return { s, text: () => Buffer.concat(chunks).toString("utf8") };
}

describe("CLI progress (scripts/commands/progress.ts)", function () {
  it("should show the elapsed time under a phase on a terminal, and end it at the next line", async function () {
    const { s, text } = stream(true);
    const p = progressLog(s);
    p.log("• compiling the circuit...");
    await new Promise((r) => setTimeout(r, 1_200));
    p.log("  compiled in 1.2 s");
    const out = text();
    expect(out).to.contain("• compiling the circuit...\n");
    expect(out).to.match(/… [01]s elapsed/);
    expect(out.indexOf("elapsed")).to.be.lessThan(out.indexOf("  compiled in 1.2 s"));
    const after = out.length;
    await new Promise((r) => setTimeout(r, 700));
    expect(text().length, "the timer stopped with the next line").to.equal(after);
    p.stop();
  });

  it("should write only the lines when the stream is not a terminal", async function () {
    const { s, text } = stream(false);
    const p = progressLog(s);
    p.log("• compiling the circuit...");
    await new Promise((r) => setTimeout(r, 600));
    p.log("  done");
    p.stop();
    expect(text()).to.equal("• compiling the circuit...\n  done\n");
  });
});
