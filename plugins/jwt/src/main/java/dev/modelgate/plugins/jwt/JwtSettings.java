package dev.modelgate.plugins.jwt;

import com.auth0.jwt.JWT;
import com.auth0.jwt.JWTVerifier;
import com.auth0.jwt.algorithms.Algorithm;
import com.auth0.jwt.interfaces.Verification;
import dev.modelgate.spi.ConfigNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.List;

/**
 * The {@code jwt} middleware's configuration, validated: exactly one key source that suits the algorithm.
 *
 * @param algorithm the only algorithm tokens may use
 * @param secret for HMAC algorithms: the shared secret, at least the hash length; otherwise {@code null}
 * @param publicKey for RSA and EC algorithms: the configured public key, or {@code null} with {@code jwks}
 * @param jwks where the keys come from when they are not configured, or {@code null}
 * @param issuers accepted {@code iss} values; empty accepts any
 * @param audiences accepted {@code aud} values, any one suffices; empty accepts any
 * @param leeway allowed clock skew for {@code exp}, {@code nbf} and {@code iat}
 * @param rolesClaim the claim holding roles: a list, or a space-separated string as OAuth2 {@code scope}
 * @param maxTokenSize the longest token accepted, in characters
 * @param cacheSize the most verified tokens remembered at once; 0 verifies every request
 * @param cacheTtl the longest a verified token is trusted without checking it again
 */
record JwtSettings(KeyAlgorithm algorithm, byte[] secret, PublicKey publicKey, JwksSettings jwks,
        List<String> issuers, List<String> audiences, Duration leeway, String rolesClaim, long maxTokenSize,
        int cacheSize, Duration cacheTtl) {

    static final Duration DEFAULT_LEEWAY = Duration.ofSeconds(30);
    static final String DEFAULT_ROLES_CLAIM = "roles";
    static final long DEFAULT_MAX_TOKEN_SIZE = 8 * 1024;
    static final int DEFAULT_CACHE_SIZE = 10_000;
    /** Bounds the memory a typo can claim: each entry holds its token, up to {@code max-token-size} long. */
    static final int MAX_CACHE_SIZE = 100_000;
    /** Short, because a key dropped from a JWKS keeps authenticating the tokens cached under it this long. */
    static final Duration DEFAULT_CACHE_TTL = Duration.ofSeconds(30);

    /**
     * Where a JWKS comes from and how often it is fetched.
     *
     * @param url the JWKS document, as an OAuth2 authorisation server publishes it
     * @param timeout the longest a fetch may take, connecting included
     * @param refreshInterval the least time between two fetches, so unknown key ids cannot flood the server
     * @param cacheTtl how long fetched keys are used before they are fetched again
     */
    record JwksSettings(URI url, Duration timeout, Duration refreshInterval, Duration cacheTtl) {
    }

    /** Reads and validates {@code config}, reporting each problem on it; {@code null} when the key is unusable. */
    static JwtSettings read(ConfigNode config) {
        String name = config.string("algorithm");
        KeyAlgorithm algorithm = KeyAlgorithm.named(name);
        if (algorithm == null && !name.isEmpty()) {
            config.problem("algorithm", "unknown algorithm '" + name + "'; known: " + KeyAlgorithm.known());
        }
        List<String> issuers = config.strings("issuer");
        List<String> audiences = config.strings("audience");
        Duration leeway = config.duration("leeway", DEFAULT_LEEWAY);
        String rolesClaim = config.string("roles-claim", DEFAULT_ROLES_CLAIM);
        long maxTokenSize = config.size("max-token-size", DEFAULT_MAX_TOKEN_SIZE);
        int cacheSize = config.integer("cache-size", DEFAULT_CACHE_SIZE, 0, MAX_CACHE_SIZE);
        Duration cacheTtl = config.duration("cache-ttl", DEFAULT_CACHE_TTL);
        // Read only with a jwks-url; valid keys all the same, for the "unknown key" hint.
        config.known("jwks-timeout", "jwks-refresh-interval", "jwks-cache-ttl");
        if (algorithm == null) {
            // Without an algorithm no key can be checked; mark the key options read so only the real problem shows.
            config.string("secret", null);
            config.string("public-key", null);
            config.string("jwks-url", null);
            return null;
        }
        byte[] secret = null;
        PublicKey publicKey = null;
        JwksSettings jwks = null;
        if (algorithm.family() == KeyAlgorithm.Family.HMAC) {
            rejectIfSet(config, "public-key", algorithm + " takes a secret; public-key is for RS* and ES*");
            rejectIfSet(config, "jwks-url", algorithm + " takes a secret; jwks-url is for RS* and ES*");
            secret = secret(config, algorithm);
        } else {
            rejectIfSet(config, "secret", algorithm + " takes public-key or jwks-url; secret is for HS*");
            boolean hasFile = config.has("public-key");
            boolean hasUrl = config.has("jwks-url");
            if (hasFile == hasUrl) {
                config.problem(algorithm + " needs exactly one of public-key and jwks-url");
                config.string("public-key", null);
                config.string("jwks-url", null);
            } else if (hasFile) {
                publicKey = publicKey(config, algorithm);
            } else {
                jwks = jwks(config);
            }
        }
        boolean keyed = secret != null || publicKey != null || jwks != null;
        return keyed ? new JwtSettings(algorithm, secret, publicKey, jwks, issuers, audiences, leeway, rolesClaim,
                maxTokenSize, cacheSize, cacheTtl) : null;
    }

    /** A verifier with this configuration's claim checks, for {@code key}, reading time from {@code clock}. */
    JWTVerifier verifier(Algorithm key, Clock clock) {
        Verification verification = JWT.require(key).acceptLeeway(leeway.toSeconds());
        if (!issuers.isEmpty()) {
            verification.withIssuer(issuers.toArray(String[]::new));
        }
        if (!audiences.isEmpty()) {
            verification.withAnyOfAudience(audiences.toArray(String[]::new));
        }
        return ((JWTVerifier.BaseVerification) verification).build(clock);
    }

    private static void rejectIfSet(ConfigNode config, String key, String message) {
        if (config.string(key, null) != null) {
            config.problem(key, message);
        }
    }

    private static byte[] secret(ConfigNode config, KeyAlgorithm algorithm) {
        String text = config.string("secret");
        if (text.isEmpty()) {
            return null;
        }
        byte[] secret = text.getBytes(StandardCharsets.UTF_8);
        if (secret.length < algorithm.minSecretBytes()) {
            // Never echo the secret: the problem list ends up in logs and CI output.
            config.problem("secret", "must be at least " + algorithm.minSecretBytes() + " bytes for " + algorithm
                    + ", but has " + secret.length + " (make one with: openssl rand -base64 "
                    + algorithm.minSecretBytes() + ")");
            return null;
        }
        return secret;
    }

    private static PublicKey publicKey(ConfigNode config, KeyAlgorithm algorithm) {
        String file = config.string("public-key");
        PublicKey key;
        try {
            key = Pem.publicKey(Path.of(file), algorithm.keyFactoryName());
        } catch (IOException | InvalidPathException e) {
            config.problem("public-key", "cannot read '" + file + "': " + e.getMessage());
            return null;
        } catch (GeneralSecurityException e) {
            config.problem("public-key", "'" + file + "' is not an " + algorithm.keyFactoryName()
                    + " public key, as " + algorithm + " needs");
            return null;
        }
        String unsuitable = algorithm.unsuitable(key);
        if (unsuitable != null) {
            config.problem("public-key", unsuitable);
            return null;
        }
        return key;
    }

    private static JwksSettings jwks(ConfigNode config) {
        String text = config.string("jwks-url");
        Duration timeout = config.duration("jwks-timeout", Duration.ofSeconds(2));
        Duration refreshInterval = config.duration("jwks-refresh-interval", Duration.ofSeconds(30));
        Duration cacheTtl = config.duration("jwks-cache-ttl", Duration.ofMinutes(5));
        URI url;
        try {
            url = new URI(text);
        } catch (URISyntaxException e) {
            config.problem("jwks-url", "is not a URL: " + e.getReason());
            return null;
        }
        if (!("https".equals(url.getScheme()) || "http".equals(url.getScheme())) || url.getHost() == null) {
            config.problem("jwks-url", "must be an http or https URL, but was '" + text + "'");
            return null;
        }
        return new JwksSettings(url, timeout, refreshInterval, cacheTtl);
    }
}
