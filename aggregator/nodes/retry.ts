// Transient faults (an RPC that did not answer, a block not mined yet, a peer that did not send)
// are tried again with exponential backoff (p-retry); anything else stops the step at once with
// its reason. What counts as transient is the error's own `retryable` flag (errors.ts).
import pRetry from "p-retry";
import { isRetryable } from "../errors.js";
import type { Logger } from "./log.js";

export interface RetryOptions {
  /** What is being tried, for the log. */
  what: string;
  log?: Logger;
  /** Tries after the first. Default 8 (about a minute with the default timeouts). */
  retries?: number;
  minTimeoutMs?: number;
  maxTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Runs `step`, trying it again while it fails with a retryable error; rethrows the last error otherwise. */
export async function withRetry<T>(step: () => Promise<T>, options: RetryOptions): Promise<T> {
  return pRetry(step, {
    retries: options.retries ?? 8,
    minTimeout: options.minTimeoutMs ?? 250,
    maxTimeout: options.maxTimeoutMs ?? 15_000,
    factor: 2,
    randomize: true,
    signal: options.signal,
    shouldRetry: ({ error }) => isRetryable(error),
    onFailedAttempt: ({ error, attemptNumber, retriesLeft, retryDelay }) => {
      if (isRetryable(error) && retriesLeft > 0) {
        options.log?.warn(
          { what: options.what, attempt: attemptNumber, retryInMs: retryDelay, reason: error.message },
          "transient failure, trying again",
        );
      }
    },
  });
}

/** Waits `ms`, or less if `signal` aborts first (never rejects): a daemon loop's pause between polls. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}
