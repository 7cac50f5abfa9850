// Asserts that a call throws the project's DsainError with a given code and a message naming the problem.
import { expect } from "chai";
import { DsainError, type ErrorCode } from "../../aggregator/errors.js";

export function expectDsainError(fn: () => unknown, code: ErrorCode, message: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown, "expected a DsainError").to.be.instanceOf(DsainError);
  expect((thrown as DsainError).code).to.equal(code);
  expect((thrown as DsainError).message).to.match(message);
}
