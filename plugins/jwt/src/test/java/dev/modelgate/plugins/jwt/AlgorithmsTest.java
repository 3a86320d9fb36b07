package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.Principal;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every supported algorithm end to end: one route per algorithm, each behind its own jwt middleware. */
class AlgorithmsTest {

    private static final String COUNTER = "algorithms";

    @TempDir
    static Path keysDir;
    private static final Map<KeyAlgorithm, KeyPair> KEYS = new EnumMap<>(KeyAlgorithm.class);
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        GatewayYaml config = GatewayYaml.counting(COUNTER);
        for (KeyAlgorithm algorithm : KeyAlgorithm.values()) {
            String key;
            if (algorithm.family() == KeyAlgorithm.Family.HMAC) {
                key = "secret: " + TestKeys.secret(algorithm);
            } else {
                KEYS.put(algorithm, TestKeys.keyPair(algorithm));
                key = "public-key: " + TestKeys.writePem(keysDir, algorithm + ".pem", KEYS.get(algorithm).getPublic());
            }
            config.route(route(algorithm), GatewayYaml.jwt("algorithm: " + algorithm + "\n" + key));
        }
        config.route("scoped", GatewayYaml.jwt("""
                algorithm: HS256
                secret: %s
                roles-claim: scope
                """.formatted(TestKeys.HS256_SECRET)), """
                - type: authorize
                  roles: [predict]
                """);
        gateway = RunningGateway.start(config.yaml());
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    private static String route(KeyAlgorithm algorithm) {
        return algorithm.name().toLowerCase(Locale.ROOT);
    }

    private static String predict(String model, String token) {
        var response = BearerRequests.predictWithToken(gateway, model, token);
        return response.statusCode() + " " + response.body();
    }

    @ParameterizedTest
    @EnumSource(KeyAlgorithm.class)
    void eachAlgorithmAcceptsATokenSignedWithItsKey(KeyAlgorithm algorithm) {
        String token = TestKeys.claims("predict").sign(TestKeys.signer(algorithm, KEYS.get(algorithm)));

        String answer = predict(route(algorithm), token);

        assertTrue(answer.startsWith("200 "), answer);
        assertEquals(new Principal("alice", Set.of("predict"), "jwt"), CountingBackendProvider.lastPrincipal(COUNTER));
    }

    @ParameterizedTest
    @EnumSource(KeyAlgorithm.class)
    void eachAlgorithmRefusesATokenOfASiblingAlgorithm(KeyAlgorithm algorithm) {
        KeyAlgorithm sibling = KeyAlgorithm.values()[algorithm.ordinal() / 3 * 3 + (algorithm.ordinal() + 1) % 3];
        // HMAC and RSA siblings sign with this route's own secret or key, so only the pinned algorithm stands in
        // the way; an EC key fits one curve only, so the EC sibling signs with its own.
        String token = TestKeys.claims("predict").sign(switch (algorithm.family()) {
            case HMAC -> sibling.hmac(TestKeys.secret(algorithm).getBytes());
            case RSA -> sibling.signing(KEYS.get(algorithm).getPrivate());
            case EC -> sibling.signing(KEYS.get(sibling).getPrivate());
        });

        BearerRequests.assertRefused(gateway, COUNTER, route(algorithm), token, 401, 10104);
    }

    @Test
    void aSpaceSeparatedScopeClaimGrantsEachScopeAsARole() {
        String token = TestKeys.claims().withClaim("scope", "read predict")
                .sign(KeyAlgorithm.HS256.hmac(TestKeys.HS256_SECRET.getBytes()));

        String answer = predict("scoped", token);

        assertTrue(answer.startsWith("200 "), answer);
        assertEquals(Set.of("read", "predict"), CountingBackendProvider.lastPrincipal(COUNTER).roles());
    }

    @Test
    void aScopeClaimWithoutTheRouteRoleIsForbidden() {
        String token = TestKeys.claims("predict").withClaim("scope", "read")
                .sign(KeyAlgorithm.HS256.hmac(TestKeys.HS256_SECRET.getBytes()));

        String answer = predict("scoped", token);

        assertTrue(answer.startsWith("403 ") && answer.contains("\"code\":10302"), answer);
    }
}
