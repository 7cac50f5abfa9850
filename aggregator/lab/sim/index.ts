// Federated simulation without chain or IPFS: strategies by name, the engine, grids and presets, the run pool, reports.
export * from "./strategies.js";
export * from "./config.js";
export * from "./data.js";
export * from "./engine.js";
export * from "./grid.js";
export * from "./pool.js";
export * from "./report.js";
export * from "./plot.js";
export * from "./output.js";
