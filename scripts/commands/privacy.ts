// `dsain privacy epsilon`: the (epsilon, delta) of a sampled Gaussian mechanism by RDP, Opacus's orders and conversion.
import { type Command, InvalidArgumentError } from "commander";
import { positiveNumber } from "./args.js";

function number(name: string, value: string): number {
  const n = value.trim() === "" ? NaN : Number(value);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${value}"`);
  return n;
}

/** q in (0, 1]: q = 0 would be no mechanism at all, q > 1 no probability. */
function sampleRate(name: string) {
  return (value: string): number => {
    const n = number(name, value);
    if (!(n > 0 && n <= 1)) throw new InvalidArgumentError(`${name} is a sampling probability and must lie in (0, 1], got "${value}"`);
    return n;
  };
}

function stepCount(name: string) {
  return (value: string): number => {
    const n = number(name, value);
    if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer below 2^53, got "${value}"`);
    return n;
  };
}

function openUnit(name: string) {
  return (value: string): number => {
    const n = number(name, value);
    if (!(n > 0 && n < 1)) throw new InvalidArgumentError(`${name} must lie strictly between 0 and 1, got "${value}"`);
    return n;
  };
}

export function register(program: Command): void {
  const privacy = program.command("privacy").description("privacy accounting for the sampled Gaussian mechanism (Rényi DP, as Opacus)");
  privacy
    .command("epsilon")
    .description("epsilon after N steps of rate Q and noise multiplier S at delta D, and the RDP order that achieved it")
    .requiredOption("--q <q>", "sampling probability per step, in (0, 1]", sampleRate("--q"))
    .requiredOption("--sigma <s>", "noise multiplier: noise standard deviation / L2 sensitivity, > 0", positiveNumber("--sigma"))
    .requiredOption("--steps <n>", "number of steps composed, a positive integer", stepCount("--steps"))
    .requiredOption("--delta <d>", "target delta, in (0, 1)", openUnit("--delta"))
    .option("--json", "print one JSON object instead of text")
    .action(async (o: { q: number; sigma: number; steps: number; delta: number; json?: boolean }) => {
      const { epsilonSampledGaussian, DEFAULT_RDP_ORDERS } = await import("../../aggregator/maths/privacy/rdp.js");
      const r = epsilonSampledGaussian({ q: o.q, sigma: o.sigma, steps: o.steps, delta: o.delta });
      if (o.json) {
        const out = {
          epsilon: r.epsilon,
          order: r.order,
          atBoundary: r.atBoundary,
          q: o.q,
          sigma: o.sigma,
          steps: o.steps,
          delta: o.delta,
          orders: "opacus-default",
          orderRange: [DEFAULT_RDP_ORDERS[0], DEFAULT_RDP_ORDERS[DEFAULT_RDP_ORDERS.length - 1]],
        };
        console.log(JSON.stringify(out));
        return;
      }
      console.log(`epsilon ${r.epsilon} at order ${r.order} (q ${o.q}, sigma ${o.sigma}, ${o.steps} steps, delta ${o.delta})`);
      if (r.atBoundary) {
        console.log(
          `note: the best order is the ${r.order === DEFAULT_RDP_ORDERS[0] ? "smallest" : "largest"} of Opacus's default orders; ` +
            "a wider range could give a smaller epsilon",
        );
      }
    });
}
