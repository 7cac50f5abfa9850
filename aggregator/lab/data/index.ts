// Real datasets and client partitions: IDX (MNIST), CIFAR-10 binary, LEAF JSON, normalisation, Dirichlet and natural splits.
export * from "./files.js";
export * from "./normalize.js";
export * from "./idx.js";
export * from "./cifar.js";
export * from "./leaf.js";
export * from "./sampling.js";
export * from "./partition.js";
