/**
 * The X25519 import check's known answer: the public key of the scalar 32 × 0x07, as @noble/curves
 * computes it (RFC 7748) and as OpenSSL's PKCS#8 DER import derives it; the JWK import on this Node
 * gives the same key for random scalars.
 */
import { createPublicKey, randomBytes } from "node:crypto";
import { x25519 } from "@noble/curves/ed25519.js";
import { describe, expect, it } from "vitest";
import { jwkCheckForTests, x25519Private, x25519Raw } from "../../../provider/age/primitives";

const { SEVENS_PUBLIC, fromDer, fromJwk } = jwkCheckForTests;

describe("X25519 private-key import", () => {
  it("the known answer is X25519(7…7, 9) by @noble/curves and by the DER import", () => {
    const sevens = Buffer.alloc(32, 7);
    expect(Buffer.from(x25519.getPublicKey(sevens)).toString("base64url")).toBe(SEVENS_PUBLIC);
    expect(createPublicKey(fromDer(sevens)).export({ format: "jwk" }).x).toBe(SEVENS_PUBLIC);
  });

  it("JWK, DER and x25519Private derive the same public key as @noble/curves for random scalars", () => {
    for (let i = 0; i < 50; i++) {
      const s = randomBytes(32);
      const want = Buffer.from(x25519.getPublicKey(s));
      expect(Buffer.from(x25519Raw(createPublicKey(fromJwk(s))))).toEqual(want);
      expect(Buffer.from(x25519Raw(createPublicKey(fromDer(s))))).toEqual(want);
      expect(Buffer.from(x25519Raw(createPublicKey(x25519Private(s))))).toEqual(want);
    }
  });
});
