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

/** The same for a promise: it must reject with the project's DsainError of `code`, its message matching. */
export async function expectDsainRejection(promise: Promise<unknown>, code: ErrorCode, message: RegExp): Promise<void> {
  const thrown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(thrown, "expected a DsainError").to.be.instanceOf(DsainError);
  expect((thrown as DsainError).code).to.equal(code);
  expect((thrown as DsainError).message).to.match(message);
}
