/**
 * bk-lite's AESCryptor (server/apps/core/utils/crypto/aes_crypto.py): AES-256-CBC, key = SHA-256 of SECRET_KEY,
 * random 16-byte IV, PKCS7 padding, stored as base64url(iv + ciphertext) without `=` padding. Secret SidecarEnv
 * values must be written exactly so, or the server cannot read them.
 */
import * as crypto from "crypto";

function keyOf(secretKey: string): Buffer {
    if (secretKey === "") {
        throw new Error("SECRET_KEY is empty: bk-lite cannot encrypt or decrypt secrets without it");
    }
    return crypto.createHash("sha256").update(secretKey, "utf8").digest();
}

/** Encrypts as AESCryptor.encode does (a fresh IV each time, so the same value encrypts differently). */
export function aesEncrypt(plaintext: string, secretKey: string, iv: Buffer = crypto.randomBytes(16)): string {
    const cipher = crypto.createCipheriv("aes-256-cbc", keyOf(secretKey), iv);
    const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
    return Buffer.concat([iv, body]).toString("base64url").replace(/=+$/, "");
}

/** Decodes as Python's `bytes.decode("utf8")` does: an invalid sequence is an error, not a replacement character. */
const STRICT_UTF8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Decrypts AESCryptor.encode output; throws when SECRET_KEY does not match or the value is malformed. A wrong key
 * passes the padding check about once in 256 tries, so the plaintext must also be UTF-8, as AESCryptor.decode
 * requires: together a wrong key goes unnoticed far less than once in a million.
 */
export function aesDecrypt(stored: string, secretKey: string): string {
    const raw = Buffer.from(stored, "base64url");
    if (raw.length < 32 || raw.length % 16 !== 0) {
        throw new Error("not an AESCryptor value");
    }
    const decipher = crypto.createDecipheriv("aes-256-cbc", keyOf(secretKey), raw.subarray(0, 16));
    return STRICT_UTF8.decode(Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]));
}

/** Length of the stored form of a plaintext of `bytes` bytes (to check it fits a varchar). */
export function aesStoredLength(bytes: number): number {
    const body = 16 + (Math.floor(bytes / 16) + 1) * 16;
    return Math.ceil((body * 4) / 3);
}
