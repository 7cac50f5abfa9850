// Progress for the CLI's long phases: a line that ends with "..." announces a phase in progress
// (circuit compilation, key setup, powers of tau, the contracts' first compilation); on a terminal
// the elapsed time runs under it (cli-progress) until the next line arrives. Off a terminal (CI,
// pipes, `--json`) nothing but the lines themselves is written.
import { SingleBar } from "cli-progress";

export interface ProgressLog {
  /** Prints `line`, ending the previous phase's timer; starts a timer if `line` announces a phase. */
  log(line: string): void;
  /** Ends a running timer (call before printing anything else to the stream, and at exit). */
  stop(): void;
}

/** A ProgressLog on `stream` (standard output by default). */
export function progressLog(stream: NodeJS.WriteStream = process.stdout): ProgressLog {
  let bar: SingleBar | undefined;
  const stop = () => {
    bar?.stop();
    bar = undefined;
  };
  return {
    log(line: string) {
      stop();
      stream.write(`${line}\n`);
      if (!line.trimEnd().endsWith("...") || stream.isTTY !== true) return;
      bar = new SingleBar({
        stream,
        format: "    … {duration_formatted} elapsed",
        hideCursor: true,
        clearOnComplete: true,
        gracefulExit: true,
        fps: 2,
      });
      bar.start(1, 0);
    },
    stop,
  };
}
