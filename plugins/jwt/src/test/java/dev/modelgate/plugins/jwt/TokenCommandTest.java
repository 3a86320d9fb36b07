package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.auth0.jwt.JWT;
import com.auth0.jwt.interfaces.DecodedJWT;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.Principal;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The {@code token} command mints what the configured gateway accepts, and says clearly when it cannot. */
class TokenCommandTest {

    private static final String COUNTER = "token-command";
    private static final String HS512_CONFIG = GatewayYaml.counting(COUNTER)
            .middleware(GatewayYaml.jwt("""
                    algorithm: HS512
                    secret: %s
                    issuer: modelgate
                    audience: [models, billing]
                    roles-claim: permissions
                    """.formatted(TestKeys.HS512_SECRET)))
            .route("m", GatewayYaml.AUTHORIZE_PREDICT)
            .yaml();

    /** An RS256 middleware whose public keys come from a JWKS URL, so the command has no key to sign with. */
    private static final String RS256_JWKS_CONFIG = """
            middlewares:
              - type: jwt
                algorithm: RS256
                jwks-url: https://auth.example.com/jwks.json
            """;

    @TempDir
    Path dir;

    private static int predict(RunningGateway gateway, String token) {
        return BearerRequests.predictWithToken(gateway, "m", token).statusCode();
    }

    @Test
    void aMintedHmacTokenIsAcceptedByAGatewayOnTheSameConfiguration() throws Exception {
        String token = TokenCommandRun.run(HS512_CONFIG, Map.of(), "--sub", "alice", "--roles", "predict, admin")
                .token();

        try (RunningGateway gateway = RunningGateway.start(HS512_CONFIG)) {
            assertEquals(200, predict(gateway, token));
        }
        assertEquals(new Principal("alice", Set.of("predict", "admin"), "jwt"),
                CountingBackendProvider.lastPrincipal(COUNTER));
    }

    @Test
    void theTokenCarriesTheConfiguredClaimsAndLivesForTheTtl() {
        DecodedJWT token = JWT.decode(TokenCommandRun.run(HS512_CONFIG, Map.of(),
                "--sub=bob", "--ttl=2d", "--roles=predict").token());

        assertEquals("HS512", token.getAlgorithm());
        assertEquals("bob", token.getSubject());
        assertEquals("modelgate", token.getIssuer());
        assertEquals(List.of("models", "billing"), token.getAudience());
        assertEquals(List.of("predict"), token.getClaim("permissions").asList(String.class));
        assertEquals(Duration.ofDays(2), Duration.between(token.getIssuedAtAsInstant(), token.getExpiresAtAsInstant()));
    }

    @Test
    void aRouteLevelEllipticCurveMiddlewareSignsWithThePrivateKeyAndKeyId() throws Exception {
        KeyPair keys = TestKeys.ec("secp384r1");
        String config = GatewayYaml.counting(COUNTER)
                .route("m", GatewayYaml.jwt("""
                        algorithm: ES384
                        public-key: %s
                        """.formatted(TestKeys.writePem(dir, "ec.pem", keys.getPublic()))))
                .yaml();
        Path privateKey = TestKeys.writePem(dir, "ec-private.pem", keys.getPrivate());

        String token = TokenCommandRun.run(config, Map.of(), "--sub", "carol", "--private-key", privateKey.toString(),
                "--kid", "2026-03").token();

        assertEquals("2026-03", JWT.decode(token).getKeyId());
        try (RunningGateway gateway = RunningGateway.start(config)) {
            assertEquals(200, predict(gateway, token));
        }
    }

    @Test
    void anRsaAlgorithmNeedsThePrivateKey() {

        TokenCommandRun.Result result = TokenCommandRun.run(RS256_JWKS_CONFIG, Map.of(), "--sub", "alice");

        assertEquals(1, result.exitCode());
        assertEquals("", result.out());
        assertTrue(result.err().contains("add --private-key FILE"), result.err());
    }

    @Test
    void aPrivateKeyOfTheWrongTypeIsNamed() {
        Path ecKey = TestKeys.writePem(dir, "ec-private.pem", TestKeys.ec("secp256r1").getPrivate());

        TokenCommandRun.Result result = TokenCommandRun.run(RS256_JWKS_CONFIG, Map.of(), "--sub", "alice",
                "--private-key", ecKey.toString());

        assertEquals(1, result.exitCode());
        assertEquals("modelgate token: '" + ecKey + "' is not an RSA private key, as RS256 needs\n", result.err());
    }

    @Test
    void aConfigurationWithoutJwtMiddlewareIsAFailure() {
        TokenCommandRun.Result result = TokenCommandRun.run("""
                middlewares:
                  - type: authorize
                """, Map.of(), "--sub", "alice");

        assertEquals(1, result.exitCode());
        assertEquals("", result.out());
        assertTrue(result.err().startsWith("modelgate token: no jwt middleware in the configuration"), result.err());
    }

    @Test
    void aWeakSecretIsRefusedAsTheGatewayWould() {
        TokenCommandRun.Result result = TokenCommandRun.run("""
                middlewares:
                  - type: jwt
                    algorithm: HS256
                    secret: short
                """, Map.of(), "--sub", "alice");

        assertEquals(1, result.exitCode());
        assertTrue(result.err().startsWith("modelgate token: middlewares[0].secret: must be at least 32 bytes"),
                result.err());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "|--sub NAME is required: the token's subject",
        "--roles predict|--sub NAME is required: the token's subject",
        "--sub|--sub needs a value",
        "--sub alice --ttl 0h|--ttl must be a positive number of s, m, h or d, such as 30m or 1h, but was '0h'",
        "--sub alice --ttl 5x|--ttl must be a positive number of s, m, h or d, such as 30m or 1h, but was '5x'",
        "--sub alice --user bob|unknown option '--user'; options: --kid, --private-key, --roles, --sub, --ttl",
        "--sub alice extra|unexpected argument 'extra'; options: --kid, --private-key, --roles, --sub, --ttl"})
    void badFlagsSayWhichArgumentIsWrongAndExitWithUsage(String args, String message) {
        TokenCommandRun.Result result = TokenCommandRun.run(HS512_CONFIG, Map.of(),
                args == null ? new String[0] : args.split(" "));

        assertEquals(2, result.exitCode());
        assertEquals("", result.out());
        List<String> lines = result.err().lines().toList();
        assertEquals("modelgate token: " + message, lines.getFirst());
        assertTrue(lines.get(1).startsWith("usage: token --sub NAME"), result.err());
    }
}
