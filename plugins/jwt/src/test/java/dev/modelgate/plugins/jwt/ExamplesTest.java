package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped examples, run as their comments say. Two things differ: the demo model is this module's counting
 * backend (the ONNX plugin is not on its classpath), and only the middlewares on its classpath are kept.
 */
class ExamplesTest {

    private static final Path EXAMPLES = Path.of("../../conf/examples");
    private static final Set<String> MIDDLEWARES_HERE = Set.of("jwt", "authorize");
    private static final String BODY = "{\"instances\":[[5.1,3.5,1.4,0.2]]}";

    @TempDir
    Path dir;

    /** The example's configuration, as JSON (which is YAML too), with the substitutions above. */
    private static String runnable(String example) throws Exception {
        ObjectNode config = (ObjectNode) new ObjectMapper(new YAMLFactory()).readTree(EXAMPLES.resolve(example)
                .toFile());
        keepMiddlewaresHere(config.path("middlewares"));
        config.path("routes").forEach(route -> keepMiddlewaresHere(route.path("middlewares")));
        ObjectNode demo = (ObjectNode) config.path("backends").path("demo");
        assertEquals("onnx", demo.path("type").asText());
        demo.removeAll().put("type", "counting").put("counter", "examples");
        return config.toString();
    }

    private static void keepMiddlewaresHere(JsonNode middlewares) {
        var each = ((ArrayNode) middlewares).elements();
        while (each.hasNext()) {
            if (!MIDDLEWARES_HERE.contains(each.next().path("type").asText())) {
                each.remove();
            }
        }
    }

    /** Checks the contract every example keeps: any valid token lists models; predict needs the role too. */
    private static void assertGuardedAsDocumented(String config, Map<String, String> environment,
            String... signingArgs) throws Exception {
        String withRole = TokenCommandRun.run(config, environment, args(signingArgs, "--roles", "predict")).token();
        String withoutRole = TokenCommandRun.run(config, environment, args(signingArgs)).token();
        try (RunningGateway gateway = RunningGateway.start(config, null, environment)) {
            HttpResponse<String> anonymous = gateway.get("/v1/models");
            assertEquals(401, anonymous.statusCode());
            assertTrue(anonymous.body().contains("\"code\":10101"), anonymous.body());
            assertEquals(200, gateway.get("/v1/models", "Authorization", "Bearer " + withoutRole).statusCode());

            HttpResponse<String> forbidden = gateway.post("/v1/models/demo:predict", "application/json", BODY,
                    "Authorization", "Bearer " + withoutRole);
            assertEquals(403, forbidden.statusCode());
            assertTrue(forbidden.body().contains("\"code\":10302"), forbidden.body());

            HttpResponse<String> allowed = gateway.post("/v1/models/demo:predict", "application/json", BODY,
                    "Authorization", "Bearer " + withRole);
            assertEquals(200, allowed.statusCode(), allowed.body());
        }
    }

    private static String[] args(String[] signingArgs, String... more) {
        String[] args = new String[signingArgs.length + 2 + more.length];
        args[0] = "--sub";
        args[1] = "alice";
        System.arraycopy(signingArgs, 0, args, 2, signingArgs.length);
        System.arraycopy(more, 0, args, 2 + signingArgs.length, more.length);
        return args;
    }

    @Test
    void theHmacExampleGuardsTheDemoModel() throws Exception {
        assertGuardedAsDocumented(runnable("jwt-hs.yaml"), Map.of("MODELGATE_JWT_SECRET", TestKeys.HS384_SECRET));
    }

    @Test
    void theRsaExampleGuardsTheDemoModel() throws Exception {
        KeyPair keys = TestKeys.rsa(2048);
        Path publicKey = TestKeys.writePem(dir, "jwt-public.pem", keys.getPublic());
        Path privateKey = TestKeys.writePem(dir, "jwt-private.pem", keys.getPrivate());

        assertGuardedAsDocumented(runnable("jwt-rs.yaml"), Map.of("MODELGATE_JWT_PUBLIC_KEY", publicKey.toString()),
                "--private-key", privateKey.toString());
    }

    @Test
    void theJwksExampleGuardsTheDemoModel() throws Exception {
        KeyPair keys = TestKeys.rsa(2048);
        String jwks = TestKeys.jwks(TestKeys.jwk("2026-03", KeyAlgorithm.RS256, keys));
        Path privateKey = TestKeys.writePem(dir, "jwt-private.pem", keys.getPrivate());
        try (TestBackend authorisationServer = TestBackend.start(request -> TestBackend.Reply.json(200, jwks))) {
            assertGuardedAsDocumented(runnable("jwks.yaml"),
                    Map.of("MODELGATE_JWKS_URL", authorisationServer.url("/.well-known/jwks.json")),
                    "--private-key", privateKey.toString(), "--kid", "2026-03");
        }
    }
}
