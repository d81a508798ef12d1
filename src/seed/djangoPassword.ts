/**
 * Django's default password hasher (PBKDF2-SHA256), as the huangpu server (Django 4.2) stores and checks console
 * passwords: `pbkdf2_sha256$<iterations>$<salt>$<base64 of the 32-byte key>`.
 */
import * as crypto from "crypto";

/** Django 4.2's iteration count for PBKDF2PasswordHasher. */
export const DJANGO_PBKDF2_ITERATIONS = 600_000;
const SALT_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

function derive(password: string, salt: string, iterations: number): string {
    return crypto
        .pbkdf2Sync(Buffer.from(password, "utf8"), Buffer.from(salt, "utf8"), iterations, 32, "sha256")
        .toString("base64");
}

/** A new hash of `password`, with a random 22-character salt as Django makes them. */
export function djangoPasswordHash(password: string, iterations = DJANGO_PBKDF2_ITERATIONS): string {
    const salt = Array.from({ length: 22 }, () => SALT_ALPHABET[crypto.randomInt(SALT_ALPHABET.length)]).join("");
    return `pbkdf2_sha256$${iterations}$${salt}$${derive(password, salt, iterations)}`;
}

/**
 * The iteration counts a stored hash may claim and still be checked: Django's own counts across its releases lie
 * far inside; a row claiming more was not made by the server, and deriving it could hang seeding for hours.
 */
export const PBKDF2_ITERATION_BOUNDS = { min: 10_000, max: 10_000_000 } as const;

/** Why a stored hash is not checked at all (its iteration count is out of bounds), or undefined when it may be. */
export function uncheckableHash(encoded: string): string | undefined {
    const parts = encoded.split("$");
    if (parts[0] !== "pbkdf2_sha256" || !/^\d+$/.test(parts[1] ?? "")) {
        return undefined;
    }
    const iterations = Number(parts[1]);
    const { min, max } = PBKDF2_ITERATION_BOUNDS;
    return iterations < min || iterations > max
        ? `it claims ${iterations} PBKDF2 iterations, outside ${min} to ${max} (Django 4.2 makes ${DJANGO_PBKDF2_ITERATIONS}): not made by the server`
        : undefined;
}

/**
 * Whether `encoded` is a PBKDF2-SHA256 hash of `password`; any other algorithm, and a hash whose iteration count is
 * out of bounds (never derived), counts as not matching.
 */
export function verifyDjangoPassword(password: string, encoded: string): boolean {
    const parts = encoded.split("$");
    if (parts.length !== 4 || parts[0] !== "pbkdf2_sha256" || !/^\d+$/.test(parts[1]) || uncheckableHash(encoded)) {
        return false;
    }
    const expected = Buffer.from(derive(password, parts[2], Number(parts[1])));
    const stored = Buffer.from(parts[3]);
    return expected.length === stored.length && crypto.timingSafeEqual(expected, stored);
}
