// Label flipping, a data-side attack: a Byzantine client trains honestly on labels mapped y -> C - 1 - y.
//
// The mapping of S. P. Karimireddy, L. He, M. Jaggi, "Learning from History for Byzantine Robust
// Optimization", ICML 2021 (and of Allen-Zhu et al., ICLR 2021: label y becomes 9 - y on MNIST);
// label flipping as a poisoning strategy against federated learning is studied by V. Tolpegin,
// S. Truex, M. E. Gursoy, L. Liu, "Data Poisoning Attacks Against Federated Learning Systems",
// ESORICS 2020. Every label of the client's dataset is flipped; the inputs are untouched.
import { type Dataset, checkDataset } from "../learning/data.js";
import { DsainError, ErrorCode } from "../../errors.js";

/** C - 1 - y for a label y in [0, C). */
export function flipLabel(label: number, classes: number): number {
  if (!Number.isInteger(classes) || classes < 2)
    throw new DsainError(ErrorCode.INPUT_INVALID, `label flip: classes is ${classes}; it must be an integer >= 2`);
  if (!Number.isInteger(label) || label < 0 || label >= classes) {
    throw new DsainError(ErrorCode.INPUT_INVALID, `label flip: label ${label} is outside [0, ${classes})`);
  }
  return classes - 1 - label;
}

/** A copy of `data` with every label y replaced by classes - 1 - y (inputs shared, not copied). */
export function flipLabels(data: Dataset): Dataset {
  checkDataset(data, "the label-flipping client's dataset");
  const y = new Uint8Array(data.y.length);
  for (let i = 0; i < y.length; i++) y[i] = data.classes - 1 - data.y[i];
  return { ...data, y };
}
