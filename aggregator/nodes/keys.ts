// A daemon's keys: its Ethereum account from an encrypted JSON keystore (password from an
// environment variable or a file) or from a raw key file that only its owner can read, and, for
// federations with in-circuit attestations, a BabyJubJub key beside it (docs/protocol.md §14).
// Every refusal names the file and what to do (CONFIG_INVALID: the daemon cannot start).
import { chmod, readFile, stat, writeFile } from "node:fs/promises";
import { Wallet, encryptKeystoreJson, type HDNodeWallet } from "ethers";
import { DsainError, ErrorCode, ensureError } from "../errors.js";
import { babyJubKeyPair, type BabyJubKeyPair } from "../protocol/eddsa.js";
import type { ParticipantConfig } from "./config.js";

export const DEFAULT_PASSWORD_ENV = "DSAIN_KEYSTORE_PASSWORD";

type KeySource = ParticipantConfig["key"];

async function readPrivateFile(file: string, what: string): Promise<string> {
  let mode: number;
  try {
    mode = (await stat(file)).mode;
  } catch (error) {
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `cannot read the ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? ensureError(error).message}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `the ${what} ${file} can be read by others (mode ${(mode & 0o777).toString(8).padStart(4, "0")}); run chmod 600 on it`,
    );
  }
  return (await readFile(file, "utf8")).trim();
}

/** The daemon's Ethereum account, not yet connected to a provider. */
export async function loadWallet(source: KeySource, env: NodeJS.ProcessEnv = process.env): Promise<Wallet | HDNodeWallet> {
  if ("rawKeyFile" in source) {
    const hex = await readPrivateFile(source.rawKeyFile, "raw key file");
    if (!/^(0x)?[0-9a-fA-F]{64}$/.test(hex)) {
      throw new DsainError(ErrorCode.CONFIG_INVALID, `the raw key file ${source.rawKeyFile} does not hold a private key (32 bytes in hex)`);
    }
    return new Wallet(hex.startsWith("0x") ? hex : `0x${hex}`);
  }
  let json: string;
  try {
    json = await readFile(source.keystore, "utf8");
  } catch (error) {
    throw new DsainError(
      ErrorCode.CONFIG_INVALID,
      `cannot read the keystore ${source.keystore}: ${(error as NodeJS.ErrnoException).code ?? ensureError(error).message}`,
    );
  }
  let password: string;
  let from: string;
  if (source.passwordFile !== undefined) {
    password = (await readPrivateFile(source.passwordFile, "password file")).split(/\r?\n/)[0];
    from = `the password file ${source.passwordFile}`;
  } else {
    const name = source.passwordEnv ?? DEFAULT_PASSWORD_ENV;
    const value = env[name];
    if (value === undefined) {
      throw new DsainError(
        ErrorCode.CONFIG_INVALID,
        `the keystore ${source.keystore} needs a password: set the environment variable ${name} or give key.passwordFile`,
      );
    }
    password = value;
    from = `the environment variable ${name}`;
  }
  try {
    JSON.parse(json);
  } catch {
    throw new DsainError(ErrorCode.CONFIG_INVALID, `the keystore ${source.keystore} is not JSON`);
  }
  try {
    return await Wallet.fromEncryptedJson(json, password);
  } catch (error) {
    const message = ensureError(error).message;
    if (/incorrect password/i.test(message)) {
      throw new DsainError(ErrorCode.CONFIG_INVALID, `wrong password for the keystore ${source.keystore} (password from ${from})`);
    }
    throw new DsainError(ErrorCode.CONFIG_INVALID, `the keystore ${source.keystore} is not an encrypted JSON keystore ethers can read`);
  }
}

/** The BabyJubJub key pair of a participant of a batched federation (32 bytes hex, mode 0600). */
export async function loadBabyJubKey(file: string): Promise<BabyJubKeyPair> {
  const hex = await readPrivateFile(file, "BabyJubJub key file");
  if (!/^(0x)?[0-9a-fA-F]{64}$/.test(hex)) {
    throw new DsainError(ErrorCode.CONFIG_INVALID, `the BabyJubJub key file ${file} does not hold a private key (32 bytes in hex)`);
  }
  return babyJubKeyPair(Buffer.from(hex.replace(/^0x/, ""), "hex"));
}

/**
 * Writes an encrypted keystore (mode 0600). `light` uses scrypt N = 2^12 instead of ethers' 2^17 so
 * a development network of a dozen daemons unlocks in milliseconds, not seconds each: for devnets only.
 */
export async function writeKeystore(
  file: string,
  wallet: Wallet | HDNodeWallet,
  password: string,
  options: { light?: boolean } = {},
): Promise<void> {
  const json = await encryptKeystoreJson(
    { address: wallet.address, privateKey: wallet.privateKey },
    password,
    options.light === true ? { scrypt: { N: 1 << 12 } } : {},
  );
  await writeFile(file, json, { mode: 0o600 });
  await chmod(file, 0o600);
}

/** Writes a private file (mode 0600): a raw key, a BabyJubJub key or a password. */
export async function writePrivateFile(file: string, text: string): Promise<void> {
  await writeFile(file, `${text}\n`, { mode: 0o600 });
  await chmod(file, 0o600);
}
