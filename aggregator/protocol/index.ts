// The protocol of docs/protocol.md in one import.
export * from "./constants.js";
export * from "./fixed-point.js";
export * from "./vector-root.js";
export * from "./aggregation.js";
export * from "./commitment.js";
export * from "./attestation.js";
export * from "./quorum.js";
export * from "./selection.js";
export * from "./checkpoint.js";
export * from "./record.js";
