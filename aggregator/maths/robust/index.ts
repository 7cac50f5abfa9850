// Robust aggregation in one import: FedAvg, the Byzantine-robust baselines, the pre-aggregators,
// ByzFed, and the float-to-integer weights of the exact path. Each module cites its paper.
export * from "./common.js";
export * from "./fedavg.js";
export * from "./median.js";
export * from "./trimmed-mean.js";
export * from "./distances.js";
export * from "./krum.js";
export * from "./bulyan.js";
export * from "./geometric-median.js";
export * from "./centered-clipping.js";
export * from "./mda.js";
export * from "./monna.js";
export * from "./meamed.js";
export * from "./nnm.js";
export * from "./clipping.js";
export * from "./arc.js";
export * from "./pipeline.js";
export * from "./byzfed.js";
export * from "./integer-weights.js";
export * from "./byzfed-exact.js";
