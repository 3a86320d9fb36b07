package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import dev.modelgate.plugins.kservev2.protobuf.inference.GRPCInferenceServiceGrpc;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferRequest;
import dev.modelgate.plugins.kservev2.protobuf.inference.ModelInferResponse;
import dev.modelgate.plugins.kservev2.protobuf.inference.ServerReadyRequest;
import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import dev.modelgate.kernel.testing.TestBackend;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPairGenerator;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shaded jar itself: shading can silently lose service files or resources, so run what ships. */
class GatewayJarIT {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient CLIENT = HttpClient.newHttpClient();
    private static final String JWT_SECRET = "a-test-secret-that-is-long-enough-for-hs256";
    private static final Path REPOSITORY = Path.of("../..").toAbsolutePath().normalize();

    @TempDir
    Path emptyFolder;

    private static HttpResponse<String> predict(int port, String model, String body) throws Exception {
        return CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/models/" + model
                        + ":predict"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** SIGTERM with requests in flight, and what each gets: {@link DrainUnderLoadIT}. */
    @Test
    void theJarAloneServesTheDemoModelFromAnyFolderAndExitsZeroOnSigterm() throws Exception {
        GatewayProcess gateway = GatewayProcess.serve(emptyFolder, Map.of());
        try {
            HttpResponse<String> response = predict(gateway.port(), "demo",
                    "{\"instances\":[[5.1,3.5,1.4,0.2],[6.3,3.3,6.0,2.5]]}");

            assertEquals(200, response.statusCode(), response.body());
            JsonNode predictions = JSON.readTree(response.body()).get("data").get("predictions");
            assertEquals(0, predictions.get(0).get("label").asInt(), "setosa");
            assertEquals(2, predictions.get(1).get("label").asInt(), "virginica");
            assertTrue(response.headers().firstValue("X-Request-Id").isPresent());
            HttpResponse<String> metrics = CLIENT.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + gateway.adminPort() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(metrics.body().contains("route=\"demo:v1\""), metrics.body());
        } finally {
            assertEquals(0, gateway.terminate(), "SIGTERM drains and exits 0");
        }
    }

    /**
     * The profiling plugin as shipped (the jar leaves most of async-profiler's converter out): {@code go tool pprof}
     * reads what the example serves. The plugin's own tests check the profiles' contents.
     */
    @Test
    void theProfilingExampleServesProfilesThatGoToolPprofReads() throws Exception {
        String token = "a-profiling-admin-token-for-the-jar-test";
        GatewayProcess gateway = GatewayProcess.serve(REPOSITORY, Map.of("MODELGATE_ADMIN_TOKEN", token),
                "--config", "conf/examples/profiling.yaml");
        try {
            for (String profile : List.of("profile?seconds=1", "heap?seconds=1", "goroutine")) {
                ProcessBuilder command = new ProcessBuilder("go", "tool", "pprof", "-top", "http://admin:" + token
                        + "@127.0.0.1:" + gateway.adminPort() + "/debug/pprof/" + profile)
                        .directory(emptyFolder.toFile()).redirectErrorStream(true);
                command.environment().put("PPROF_TMPDIR", emptyFolder.toString());
                Process go = command.start();
                go.getOutputStream().close();
                String output = new String(go.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(go.waitFor(60, TimeUnit.SECONDS));
                assertEquals(0, go.exitValue(), output);
                assertTrue(output.contains("Showing nodes"), output);
            }
        } finally {
            assertEquals(0, gateway.terminate());
        }
    }

    @Test
    void theDefaultConfigurationAnswersTheDemoModelOnEveryFront() throws Exception {
        GatewayProcess gateway = GatewayProcess.serve(emptyFolder, Map.of());
        try {
            String base = "http://127.0.0.1:" + gateway.port();
            HttpResponse<String> kserve = CLIENT.send(HttpRequest.newBuilder(URI.create(base
                            + "/v2/models/demo/infer")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"inputs\":[{\"name\":\"features\",\"shape\":[1,4],"
                            + "\"datatype\":\"FP32\",\"data\":[6.3,3.3,6.0,2.5]}],\"outputs\":[{\"name\":\"label\"}]}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            HttpResponse<String> tfServing = CLIENT.send(HttpRequest.newBuilder(URI.create(base
                            + "/tfserving/v1/models/demo:predict")).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString("{\"instances\":[[6.3,3.3,6.0,2.5]]}")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(200, kserve.statusCode(), kserve.body());
            assertEquals(2, JSON.readTree(kserve.body()).get("outputs").get(0).get("data").get(0).asInt());
            assertEquals(200, tfServing.statusCode(), tfServing.body());
            assertEquals(2, JSON.readTree(tfServing.body()).get("predictions").get(0).get("label").asInt());
        } finally {
            assertEquals(0, gateway.terminate());
        }
    }

    @Test
    void theJarServesTheDemoModelOverGrpcOnItsGrpcPort() throws Exception {
        int grpcPort;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            grpcPort = free.getLocalPort();
        }
        GatewayProcess gateway = GatewayProcess.serve(emptyFolder, Map.of(), "--grpc-port",
                Integer.toString(grpcPort));
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", grpcPort).usePlaintext().build();
        try {
            GRPCInferenceServiceGrpc.GRPCInferenceServiceBlockingStub kserve = GRPCInferenceServiceGrpc
                    .newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
            assertTrue(kserve.serverReady(ServerReadyRequest.getDefaultInstance()).getReady());
            ByteBuffer features = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                    .putFloat(6.3f).putFloat(3.3f).putFloat(6.0f).putFloat(2.5f);
            ModelInferResponse inferred = kserve.modelInfer(ModelInferRequest.newBuilder().setModelName("demo")
                    .addInputs(ModelInferRequest.InferInputTensor.newBuilder().setName("features")
                            .setDatatype("FP32").addShape(1).addShape(4))
                    .addRawInputContents(ByteString.copyFrom(features.array()))
                    .addOutputs(ModelInferRequest.InferRequestedOutputTensor.newBuilder().setName("label"))
                    .build());
            assertEquals(2, inferred.getRawOutputContents(0).asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN)
                    .getLong());
            // The shipped configuration sends ModelService requests without a model to the demo model.
            PredictResponse predicted = ModelServiceGrpc.newBlockingStub(channel).withDeadlineAfter(30,
                    TimeUnit.SECONDS).predict(PredictRequest.newBuilder().addFeatures(5.1f).addFeatures(3.5f)
                    .addFeatures(1.4f).addFeatures(0.2f).build());
            assertEquals("demo", predicted.getModel());
            assertTrue(predicted.getPrediction() > 0.5f, "setosa: " + predicted);
            assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(30, TimeUnit.SECONDS).check(HealthCheckRequest.newBuilder()
                            .setService("demo").build()).getStatus());
        } finally {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            assertEquals(0, gateway.terminate(), "SIGTERM drains the gRPC listener too and exits 0");
        }
    }

    @Test
    void theHttpBackendExampleForwardsToTheConfiguredUrl() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> TestBackend.Reply.json(200,
                "{\"predictions\":[[0.1,0.9]]}"))) {
            GatewayProcess gateway = GatewayProcess.serve(REPOSITORY,
                    Map.of("MODELGATE_BACKEND_URL", backend.url("/v1/models/remote:predict")),
                    "--config", "conf/examples/http-backend.yaml");
            try {
                HttpResponse<String> response = predict(gateway.port(), "remote", "{\"instances\":[[1.0,2.0]]}");

                assertEquals(200, response.statusCode(), response.body());
                assertEquals("{\"code\":0,\"message\":\"success\",\"data\":{\"predictions\":[[0.1,0.9]]}}",
                        response.body());
                assertEquals("/v1/models/remote:predict", backend.lastRequest().path());
                assertEquals("{\"instances\":[[1.0,2.0]]}", backend.lastRequest().bodyText());
                assertEquals(response.headers().firstValue("X-Request-Id").orElseThrow(),
                        backend.lastRequest().headers().first("X-Request-Id"));
            } finally {
                assertEquals(0, gateway.terminate());
            }
        }
    }

    @Test
    void pluginsListsEveryBuiltInPlugin() throws Exception {
        GatewayProcess.Result result = GatewayProcess.run(emptyFolder, Map.of(), "plugins");

        assertEquals(0, result.exitCode(), result.err());
        for (String expected : new String[] {"middleware +access-log +built in", "middleware +request-id +built in",
                "backend +http +built in", "backend +onnx +built in", "codec +tf-serving +built in",
                "codec +kserve-v2 +built in", "codec +kserve-v2-protobuf +built in", "front +grpc +built in",
                "middleware +trace-context +built in", "filter +batching +built in"}) {
            assertTrue(result.out().lines().anyMatch(line -> line.matches(expected)), result.out());
        }
    }

    @Test
    void versionPrintsTheVersion() throws Exception {
        GatewayProcess.Result result = GatewayProcess.run(emptyFolder, Map.of(), "version");

        assertEquals(0, result.exitCode());
        assertTrue(result.out().matches("modelgate \\d+\\.\\d+\\.\\d+.*\\n"), result.out());
    }

    /** The variables the shipped examples read, with values that make each example valid. */
    private Map<String, String> exampleEnvironment() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        Path publicKey = Files.writeString(emptyFolder.resolve("public.pem"), "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(generator.generateKeyPair().getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n");
        return Map.ofEntries(
                Map.entry("MODELGATE_BACKEND_URL", "http://127.0.0.1:8501/v1/models/m:predict"),
                Map.entry("MODELGATE_CANARY_URL", "http://127.0.0.1:8503/v1/models/m:predict"),
                Map.entry("MODELGATE_EU_1_URL", "http://127.0.0.1:8511/v1/models/remote:predict"),
                Map.entry("MODELGATE_EU_2_URL", "http://127.0.0.1:8512/v1/models/remote:predict"),
                Map.entry("MODELGATE_US_1_URL", "http://127.0.0.1:8521/v1/models/remote:predict"),
                Map.entry("MODELGATE_US_2_URL", "http://127.0.0.1:8522/v1/models/remote:predict"),
                Map.entry("MODELGATE_TFSERVING_URL", "http://127.0.0.1:8501"),
                Map.entry("MODELGATE_KSERVE_URL", "http://127.0.0.1:8000"),
                Map.entry("MODELGATE_GRPC_KSERVE_URL", "grpc://127.0.0.1:8001"),
                Map.entry("MODELGATE_MODEL_SERVICE_URL", "grpc://127.0.0.1:50051"),
                Map.entry("MODELGATE_REDIS_URL", "redis://127.0.0.1:6390"),
                Map.entry("MODELGATE_JWT_SECRET", JWT_SECRET),
                Map.entry("MODELGATE_JWT_PUBLIC_KEY", publicKey.toString()),
                Map.entry("MODELGATE_JWKS_URL", "http://127.0.0.1:8502/.well-known/jwks.json"),
                Map.entry("MODELGATE_OPENAI_BASE_URL", "http://127.0.0.1:11434/v1"),
                Map.entry("MODELGATE_OPENAI_FALLBACK_URL", "http://127.0.0.1:8000/v1"),
                Map.entry("MODELGATE_ADMIN_TOKEN", "an-admin-token-of-32-characters-or-more"));
    }

    @Test
    void theJwtExampleServesOnlyTokensTheTokenCommandMints() throws Exception {
        Map<String, String> environment = Map.of("MODELGATE_JWT_SECRET", JWT_SECRET);
        GatewayProcess.Result minted = GatewayProcess.run(REPOSITORY, environment, "token", "--sub", "alice",
                "--roles", "predict", "--ttl", "5m", "--config", "conf/examples/jwt-hs.yaml");
        assertEquals(0, minted.exitCode(), minted.err());
        String token = minted.out().strip();

        GatewayProcess gateway = GatewayProcess.serve(REPOSITORY, environment, "--config",
                "conf/examples/jwt-hs.yaml");
        try {
            String body = "{\"instances\":[[5.1,3.5,1.4,0.2]]}";
            HttpResponse<String> anonymous = predict(gateway.port(), "demo", body);
            HttpResponse<String> authorized = CLIENT.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                            + gateway.port() + "/v1/models/demo:predict"))
                    .header("Content-Type", "application/json").header("Authorization", "Bearer " + token)
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());

            assertEquals(401, anonymous.statusCode(), anonymous.body());
            assertEquals(200, authorized.statusCode(), authorized.body());
        } finally {
            assertEquals(0, gateway.terminate());
        }
    }

    @Test
    void validateAcceptsTheShippedConfigurationsAndNamesTheKeyOfAProblem() throws Exception {
        Map<String, String> environment = exampleEnvironment();
        try (var examples = Files.list(REPOSITORY.resolve("conf/examples"))) {
            for (Path example : examples.filter(file -> file.toString().endsWith(".yaml")).toList()) {
                GatewayProcess.Result result = GatewayProcess.run(REPOSITORY, environment, "validate",
                        example.toString());
                assertEquals(0, result.exitCode(), example + ": " + result.err());
            }
        }
        assertEquals(0, GatewayProcess.run(REPOSITORY, Map.of(), "validate", "conf/gateway.yaml").exitCode());

        Path broken = Files.writeString(emptyFolder.resolve("broken.yaml"), """
                backends:
                  demo:
                    type: onnx
                    model: classpath:models/demo.onnx
                routes:
                  - model: demo
                    backend: demo
                  - model: other
                    backend: tf-main
                """);
        GatewayProcess.Result result = GatewayProcess.run(emptyFolder, Map.of(), "validate", broken.toString());
        assertEquals(1, result.exitCode());
        assertEquals("routes[1].backend: unknown backend 'tf-main'; known backends: demo\n", result.err());
    }

    @Test
    void theErrorCodePageIsGeneratedFromTheCode() throws Exception {
        GatewayProcess.Result result = GatewayProcess.run(emptyFolder, Map.of(), "error-codes");

        assertEquals(0, result.exitCode(), result.err());
        assertEquals(result.out(), Files.readString(REPOSITORY.resolve("docs/error-codes.md")),
                "docs/error-codes.md is stale: run `java -jar target/gateway.jar error-codes > docs/error-codes.md`");
    }
}
