package dev.modelgate.plugins.jwt;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTCreator;
import com.auth0.jwt.algorithms.Algorithm;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.spi.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;

/** Keys, PEM files, JWKs and tokens for tests, made fresh with the JDK's own generators. */
final class TestKeys {

    static final String HS256_SECRET = "0123456789abcdef0123456789abcdef";
    static final String HS384_SECRET = HS256_SECRET + "0123456789abcdef";
    static final String HS512_SECRET = HS384_SECRET + "0123456789abcdef";

    private TestKeys() {
    }

    static String secret(KeyAlgorithm algorithm) {
        return switch (algorithm) {
            case HS256 -> HS256_SECRET;
            case HS384 -> HS384_SECRET;
            default -> HS512_SECRET;
        };
    }

    static KeyPair rsa(int bits) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(bits);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    static KeyPair ec(String curveName) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
            generator.initialize(new ECGenParameterSpec(curveName));
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A fresh key pair for an RSA or EC algorithm. */
    static KeyPair keyPair(KeyAlgorithm algorithm) {
        return algorithm.family() == KeyAlgorithm.Family.RSA ? rsa(2048) : ec(algorithm.curveName());
    }

    /** Writes {@code key} as PEM ("PUBLIC KEY" or "PRIVATE KEY" by its type) to {@code dir/name}. */
    static Path writePem(Path dir, String name, Key key) {
        String label = key instanceof PrivateKey ? "PRIVATE KEY" : "PUBLIC KEY";
        try {
            return Files.writeString(dir.resolve(name), pem(label, key.getEncoded()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    /** The signing algorithm of {@code algorithm}: the test secret for HMAC, else the private key of {@code keys}. */
    static Algorithm signer(KeyAlgorithm algorithm, KeyPair keys) {
        return algorithm.family() == KeyAlgorithm.Family.HMAC
                ? algorithm.hmac(secret(algorithm).getBytes(StandardCharsets.UTF_8))
                : algorithm.signing(keys.getPrivate());
    }

    /** The public JWK of {@code keys} for {@code algorithm}, with {@code kid}, {@code use: sig} and {@code alg}. */
    static ObjectNode jwk(String kid, KeyAlgorithm algorithm, KeyPair keys) {
        ObjectNode jwk = Json.MAPPER.createObjectNode().put("kid", kid).put("use", "sig").put("alg", algorithm.name());
        if (keys.getPublic() instanceof RSAPublicKey rsa) {
            jwk.put("kty", "RSA")
                    .put("n", base64Url(rsa.getModulus(), 0))
                    .put("e", base64Url(rsa.getPublicExponent(), 0));
        } else {
            ECPublicKey ec = (ECPublicKey) keys.getPublic();
            int size = (ec.getParams().getCurve().getField().getFieldSize() + 7) / 8;
            jwk.put("kty", "EC").put("crv", algorithm.jwkCurve())
                    .put("x", base64Url(ec.getW().getAffineX(), size))
                    .put("y", base64Url(ec.getW().getAffineY(), size));
        }
        return jwk;
    }

    /** A JWKS document holding {@code keys}. */
    static String jwks(ObjectNode... keys) {
        ObjectNode document = Json.MAPPER.createObjectNode();
        ArrayNode list = document.putArray("keys");
        Arrays.stream(keys).forEach(list::add);
        return document.toString();
    }

    /** The unsigned big-endian bytes of {@code number}, left-padded to {@code size} (RFC 7518, section 6.2.1.2). */
    private static String base64Url(BigInteger number, int size) {
        byte[] bytes = number.toByteArray();
        if (bytes.length > 1 && bytes[0] == 0) {
            bytes = Arrays.copyOfRange(bytes, 1, bytes.length);
        }
        if (bytes.length < size) {
            byte[] padded = new byte[size];
            System.arraycopy(bytes, 0, padded, size - bytes.length, bytes.length);
            bytes = padded;
        }
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }

    static String base64Url(String text) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    /** An unsigned token: the encoded header and payload and an empty signature. */
    static String unsigned(String headerJson, String payloadJson) {
        return base64Url(headerJson) + "." + base64Url(payloadJson) + ".";
    }

    /**
     * A token every test gateway accepts once signed: {@code sub} alice, {@code roles}, {@code iss} modelgate,
     * {@code aud} models, issued now and valid for five minutes.
     */
    static JWTCreator.Builder claims(String... roles) {
        Instant now = Instant.now();
        return JWT.create()
                .withSubject("alice")
                .withArrayClaim("roles", roles)
                .withIssuer("modelgate")
                .withAudience("models")
                .withIssuedAt(now)
                .withExpiresAt(now.plus(Duration.ofMinutes(5)));
    }
}
