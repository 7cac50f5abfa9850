// Byzantine attacks for evaluation, each with its published definition: pure functions over update vectors or datasets.
export * from "./common.js";
export * from "./sign-flip.js";
export * from "./gaussian.js";
export * from "./label-flip.js";
export * from "./alie.js";
export * from "./ipm.js";
export * from "./min-max.js";
export * from "./backdoor.js";
