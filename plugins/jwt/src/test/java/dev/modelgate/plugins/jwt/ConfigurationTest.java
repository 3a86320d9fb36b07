package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.BuiltPlugin;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.PhasedMiddleware;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A jwt middleware that could not check tokens safely keeps the gateway from starting, naming the key. */
class ConfigurationTest {

    @TempDir
    Path dir;

    private static List<String> problems(String jwtOptions) {
        Deployment.InvalidConfigException failure = assertThrows(Deployment.InvalidConfigException.class, () ->
                RunningGateway.start(GatewayYaml.counting("configuration")
                        .middleware(GatewayYaml.jwt(jwtOptions))
                        .route("m")
                        .yaml()).close());
        return failure.problems();
    }

    @ParameterizedTest
    @CsvSource({"HS256, 31, 32", "HS384, 47, 48", "HS512, 63, 64"})
    void aSecretShorterThanTheHashIsRefusedAtStartup(String algorithm, int length, int needed) {
        List<String> problems = problems("algorithm: " + algorithm + "\nsecret: " + "s".repeat(length));

        assertEquals(List.of("middlewares[0].secret: must be at least " + needed + " bytes for " + algorithm
                + ", but has " + length + " (make one with: openssl rand -base64 " + needed + ")"), problems);
    }

    @Test
    void theAlgorithmIsRequired() {
        assertEquals(List.of("middlewares[0].algorithm: is required"), problems("secret: " + TestKeys.HS256_SECRET));
    }

    @Test
    void anUnknownKeyListsEveryOptionIncludingThoseOfOtherKeySources() {
        assertEquals(List.of("middlewares[0].secrett: unknown key; known keys here: algorithm, audience, cache-size, "
                + "cache-ttl, issuer, jwks-cache-ttl, jwks-refresh-interval, jwks-timeout, jwks-url, leeway, "
                + "max-token-size, public-key, roles-claim, secret, type"),
                problems("algorithm: HS256\nsecret: " + TestKeys.HS256_SECRET + "\nsecrett: x"));
    }

    @Test
    void anUnknownAlgorithmIsNamed() {
        assertEquals(List.of("middlewares[0].algorithm: unknown algorithm 'none'; known: HS256, HS384, HS512, "
                + "RS256, RS384, RS512, ES256, ES384, ES512"), problems("algorithm: none"));
    }

    @Test
    void anRsaAlgorithmRefusesASecret() {
        List<String> problems = problems("algorithm: RS256\nsecret: " + TestKeys.HS256_SECRET);

        assertEquals(List.of("middlewares[0].secret: RS256 takes public-key or jwks-url; secret is for HS*",
                "middlewares[0]: RS256 needs exactly one of public-key and jwks-url"), problems);
    }

    @Test
    void anHmacAlgorithmRefusesAPublicKey() {
        Path pem = TestKeys.writePem(dir, "rsa.pem", TestKeys.rsa(2048).getPublic());

        List<String> problems = problems("algorithm: HS256\nsecret: " + TestKeys.HS256_SECRET
                + "\npublic-key: " + pem);

        assertEquals(List.of("middlewares[0].public-key: HS256 takes a secret; public-key is for RS* and ES*"),
                problems);
    }

    @Test
    void anEcKeyDoesNotServeAnRsaAlgorithm() {
        Path pem = TestKeys.writePem(dir, "ec.pem", TestKeys.ec("secp256r1").getPublic());

        assertEquals(List.of("middlewares[0].public-key: '" + pem + "' is not an RSA public key, as RS256 needs"),
                problems("algorithm: RS256\npublic-key: " + pem));
    }

    @Test
    void anEcKeyOnAnotherCurveIsRefused() {
        Path pem = TestKeys.writePem(dir, "p384.pem", TestKeys.ec("secp384r1").getPublic());

        assertEquals(List.of("middlewares[0].public-key: ES256 needs a key on curve P-256, but this one has 384 bits"),
                problems("algorithm: ES256\npublic-key: " + pem));
    }

    @Test
    void aShortRsaKeyIsRefused() {
        Path pem = TestKeys.writePem(dir, "rsa1024.pem", TestKeys.rsa(1024).getPublic());

        assertEquals(List.of("middlewares[0].public-key: RSA keys must have at least 2048 bits, but this has 1024"),
                problems("algorithm: RS256\npublic-key: " + pem));
    }

    @Test
    void aMissingKeyFileIsNamed() {
        Path missing = dir.resolve("missing.pem");

        List<String> problems = problems("algorithm: ES256\npublic-key: " + missing);

        assertEquals(1, problems.size(), problems.toString());
        assertEquals(true, problems.getFirst().startsWith("middlewares[0].public-key: cannot read '" + missing + "'"),
                problems.getFirst());
    }

    @Test
    void jwksOptionsWithoutAJwksUrlAreUnknownKeys() {
        List<String> problems = problems("algorithm: HS256\nsecret: " + TestKeys.HS256_SECRET
                + "\njwks-cache-ttl: 1m");

        assertEquals(1, problems.size(), problems.toString());
        assertEquals(true, problems.getFirst().startsWith("middlewares[0].jwks-cache-ttl: unknown key"),
                problems.getFirst());
    }

    @Test
    void aJwksUrlMustBeHttp() {
        assertEquals(List.of("middlewares[0].jwks-url: must be an http or https URL, but was 'file:///etc/jwks'"),
                problems("algorithm: RS256\njwks-url: file:///etc/jwks"));
    }

    @Test
    void aNegativeCacheSizeIsNamed() {
        assertEquals(List.of("middlewares[0].cache-size: must be between 0 and 100000, but was -1"),
                problems("algorithm: HS256\nsecret: " + TestKeys.HS256_SECRET + "\ncache-size: -1"));
    }

    @Test
    void aCacheTtlMustBePositive() {
        List<String> problems = problems("algorithm: HS256\nsecret: " + TestKeys.HS256_SECRET + "\ncache-ttl: 0s");

        assertEquals(1, problems.size(), problems.toString());
        assertEquals(true, problems.getFirst().startsWith("middlewares[0].cache-ttl: must be a positive duration"),
                problems.getFirst());
    }

    @Test
    void theCacheOptionsAreAccepted() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(GatewayYaml.counting("configuration")
                .middleware(GatewayYaml.jwt("algorithm: HS256\nsecret: " + TestKeys.HS256_SECRET
                        + "\nissuer: modelgate\naudience: models\ncache-size: 0\ncache-ttl: 5s"))
                .route("m")
                .yaml())) {
            String token = TestKeys.claims().sign(TestKeys.signer(KeyAlgorithm.HS256, null));

            assertEquals(200, BearerRequests.predictWithToken(gateway, "m", token).statusCode());
        }
    }

    @Test
    void aConfiguredKeyIsCheckedInThePhasedFormAndAJwksIsNot() throws Exception {
        Path pem = TestKeys.writePem(dir, "public.pem", TestKeys.keyPair(KeyAlgorithm.RS256).getPublic());
        JwtProvider provider = new JwtProvider();
        try (var secret = BuiltPlugin.middleware(provider, "algorithm: HS256\nsecret: " + TestKeys.HS256_SECRET);
                var publicKey = BuiltPlugin.middleware(provider, "algorithm: RS256\npublic-key: " + pem);
                var jwks = BuiltPlugin.middleware(provider, "algorithm: RS256\njwks-url: http://127.0.0.1:9/jwks")) {
            assertInstanceOf(PhasedMiddleware.class, secret.instance());
            assertInstanceOf(PhasedMiddleware.class, publicKey.instance());
            assertFalse(jwks.instance() instanceof PhasedMiddleware,
                    "a token whose key is not cached waits for a fetch, which must not hold an IO thread");
            assertInstanceOf(AutoCloseable.class, jwks.instance(), "closes its JWKS client");
        }
    }
}
