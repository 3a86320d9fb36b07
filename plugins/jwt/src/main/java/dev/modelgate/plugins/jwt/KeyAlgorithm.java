package dev.modelgate.plugins.jwt;

import com.auth0.jwt.algorithms.Algorithm;
import java.security.Key;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.ECKey;
import java.security.interfaces.ECPrivateKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.interfaces.RSAPublicKey;
import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The JWS algorithms the {@code jwt} middleware accepts, with what each needs of its key. The configured algorithm
 * pins the key type: a token is verified only with the configured algorithm, whatever its header says.
 */
enum KeyAlgorithm {
    HS256(Family.HMAC, 32, null, null),
    HS384(Family.HMAC, 48, null, null),
    HS512(Family.HMAC, 64, null, null),
    RS256(Family.RSA, 0, null, null),
    RS384(Family.RSA, 0, null, null),
    RS512(Family.RSA, 0, null, null),
    ES256(Family.EC, 0, "P-256", "secp256r1"),
    ES384(Family.EC, 0, "P-384", "secp384r1"),
    ES512(Family.EC, 0, "P-521", "secp521r1");

    /** Below 2048 bits an RSA key is breakable with public means (NIST SP 800-131A). */
    static final int MIN_RSA_BITS = 2048;

    enum Family {
        HMAC, RSA, EC
    }

    private final Family family;
    private final int minSecretBytes;
    private final String jwkCurve;
    private final String curveName;

    KeyAlgorithm(Family family, int minSecretBytes, String jwkCurve, String curveName) {
        this.family = family;
        this.minSecretBytes = minSecretBytes;
        this.jwkCurve = jwkCurve;
        this.curveName = curveName;
    }

    /** The algorithm named {@code name} exactly as a JWS header spells it, or {@code null}. */
    static KeyAlgorithm named(String name) {
        for (KeyAlgorithm algorithm : values()) {
            if (algorithm.name().equals(name)) {
                return algorithm;
            }
        }
        return null;
    }

    static String known() {
        return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
    }

    Family family() {
        return family;
    }

    /** For HMAC: the hash length in bytes, the least a secret may have (RFC 7518, section 3.2). */
    int minSecretBytes() {
        return minSecretBytes;
    }

    /** The JWK {@code kty} of this algorithm's keys. */
    String jwkType() {
        return family == Family.RSA ? "RSA" : family == Family.EC ? "EC" : "oct";
    }

    /** For EC: the JWK {@code crv} name, {@code P-256}. */
    String jwkCurve() {
        return jwkCurve;
    }

    /** For EC: the standard curve name, {@code secp256r1}. */
    String curveName() {
        return curveName;
    }

    /** The {@link java.security.KeyFactory} algorithm of this algorithm's keys. */
    String keyFactoryName() {
        return jwkType();
    }

    /**
     * Why {@code key} cannot be used with this algorithm, or {@code null} when it can: the wrong family, an RSA key
     * under {@link #MIN_RSA_BITS}, an EC key on another curve.
     */
    String unsuitable(Key key) {
        return switch (family) {
            case HMAC -> "an HMAC algorithm takes a secret, not a key";
            case RSA -> !(key instanceof RSAKey rsa) ? name() + " needs an RSA key, but this is " + key.getAlgorithm()
                    : rsa.getModulus().bitLength() < MIN_RSA_BITS
                            ? "RSA keys must have at least " + MIN_RSA_BITS + " bits, but this has "
                                    + rsa.getModulus().bitLength()
                            : null;
            case EC -> !(key instanceof ECKey ec) ? name() + " needs an EC key, but this is " + key.getAlgorithm()
                    : ec.getParams().getCurve().getField().getFieldSize() != curveBits()
                            ? name() + " needs a key on curve " + jwkCurve + ", but this one has "
                                    + ec.getParams().getCurve().getField().getFieldSize() + " bits"
                            : null;
        };
    }

    private int curveBits() {
        return Integer.parseInt(jwkCurve.substring(2));
    }

    /** The HMAC algorithm with {@code secret}. */
    Algorithm hmac(byte[] secret) {
        return switch (this) {
            case HS256 -> Algorithm.HMAC256(secret);
            case HS384 -> Algorithm.HMAC384(secret);
            case HS512 -> Algorithm.HMAC512(secret);
            default -> throw new IllegalStateException(name() + " is not an HMAC algorithm");
        };
    }

    /** The algorithm that verifies with {@code key}, which {@link #unsuitable} accepted. */
    Algorithm verifying(PublicKey key) {
        return switch (this) {
            case RS256 -> Algorithm.RSA256((RSAPublicKey) key, null);
            case RS384 -> Algorithm.RSA384((RSAPublicKey) key, null);
            case RS512 -> Algorithm.RSA512((RSAPublicKey) key, null);
            case ES256 -> Algorithm.ECDSA256((ECPublicKey) key, null);
            case ES384 -> Algorithm.ECDSA384((ECPublicKey) key, null);
            case ES512 -> Algorithm.ECDSA512((ECPublicKey) key, null);
            default -> throw new IllegalStateException(name() + " verifies with a secret, not a public key");
        };
    }

    /** The algorithm that signs with {@code key}, which {@link #unsuitable} accepted. */
    Algorithm signing(PrivateKey key) {
        return switch (this) {
            case RS256 -> Algorithm.RSA256(null, (RSAPrivateKey) key);
            case RS384 -> Algorithm.RSA384(null, (RSAPrivateKey) key);
            case RS512 -> Algorithm.RSA512(null, (RSAPrivateKey) key);
            case ES256 -> Algorithm.ECDSA256(null, (ECPrivateKey) key);
            case ES384 -> Algorithm.ECDSA384(null, (ECPrivateKey) key);
            case ES512 -> Algorithm.ECDSA512(null, (ECPrivateKey) key);
            default -> throw new IllegalStateException(name() + " signs with a secret, not a private key");
        };
    }
}
