// FedSov, the client side of DSAIN: top-k with error feedback, clipping and Gaussian noise, the client step.
export * from "./topk.js";
export * from "./dp.js";
export * from "./local-linear.js";
export * from "./client.js";
export * from "./conformance.js";
