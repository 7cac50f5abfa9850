// Privacy accounting: RDP of the sampled Gaussian mechanism (Opacus-compatible), the DSAIN paper's Theorem 8, per-participant budgets.
export { DEFAULT_RDP_ORDERS, computeRdp, epsilonFromRdp, epsilonSampledGaussian, rdpSampledGaussian } from "./rdp.js";
export type { PrivacySpent, RdpParameters } from "./rdp.js";
export { RdpAccountant, singleStepRdp } from "./accountant.js";
export type { MechanismSteps } from "./accountant.js";
export { PrivacyLedger } from "./ledger.js";
export type { ChargeResult, LedgerSnapshot, PrivacyBudget } from "./ledger.js";
export { gaussianMechanismDelta, gaussianNoiseScale } from "./gaussian.js";
export { advancedCompositionSubsampled, theorem8 } from "./theorem8.js";
export type { CompositionBound, Theorem8Parameters } from "./theorem8.js";
