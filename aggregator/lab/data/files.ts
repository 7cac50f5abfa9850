// Reads a dataset file into memory, gunzipping it when its first bytes say it is gzip.
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { DsainError, ErrorCode, ensureError } from "../../errors.js";

/** The two magic bytes of every gzip member (RFC 1952 §2.3.1). */
function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** A DATA_MALFORMED error whose message starts with the file it is about. */
export function malformed(file: string, message: string): DsainError {
  return new DsainError(ErrorCode.DATA_MALFORMED, `${file}: ${message}`);
}

/**
 * The contents of `file`, decompressed when it is gzip (detected from the content, not the name,
 * so `foo-ubyte` and `foo-ubyte.gz` both work whatever they hold).
 */
export function readDataFile(file: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = readFileSync(file);
  } catch (e) {
    const err = ensureError(e) as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.message;
    throw new DsainError(ErrorCode.DATA_UNREADABLE, `${file}: cannot read the dataset file (${why}); check the path`, { cause: e });
  }
  return maybeGunzip(raw, file);
}

/** `bytes` gunzipped when they start with the gzip magic, else `bytes` itself. */
export function maybeGunzip(bytes: Uint8Array, file: string): Uint8Array {
  if (!isGzip(bytes)) return bytes;
  try {
    return gunzipSync(bytes);
  } catch (e) {
    throw new DsainError(
      ErrorCode.DATA_MALFORMED,
      `${file}: starts like gzip but does not decompress (${ensureError(e).message}); the file is probably truncated or corrupt`,
      { cause: e },
    );
  }
}
