package dev.modelgate.plugins.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.kernel.testing.Answers;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A backend's error body never reaches a client beyond its protocol's message field, cleaned: not a Java stack trace,
 * not an HTML page, not a megabyte of text, on every path an error takes (the gateway's envelope around a plain
 * {@code http} backend, a protocol client passed through to its own server, a client of another protocol translated).
 */
class BackendErrorLeakTest {

    private static final String STACK_TRACE = """
            java.lang.NullPointerException: Cannot invoke "Pool.get()" because "pool" is null
            \tat com.internal.billing.ModelRunner.run(ModelRunner.java:42)
            \tat com.internal.billing.Server.handle(Server.java:7)
            Caused by: java.sql.SQLException: jdbc connection refused
            \tat org.postgresql.Driver.connect(Driver.java:12)
            \t... 12 more
            """;
    private static final String HTML = "<html><head><title>500 Internal Server Error</title></head><body>"
            + "<h1>Whoops</h1><pre>Traceback (most recent call last):\n  File \"/srv/app.py\", line 3, in run\n"
            + "KeyError: 'secret'</pre></body></html>";
    private static final String HUGE = "x".repeat(1 << 20);

    private static final AtomicReference<Reply> ERROR = new AtomicReference<>();
    private static final List<LogRecord> DEBUG_LOG = new CopyOnWriteArrayList<>();
    private static final Handler CAPTURE = new Handler() {
        @Override
        public void publish(LogRecord logRecord) {
            DEBUG_LOG.add(logRecord);
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private static final Logger KERNEL_LOG = Logger.getLogger("dev.modelgate.kernel");

    private static TestBackend backend;
    private static RunningGateway gateway;

    @BeforeAll
    static void start() throws Exception {
        KERNEL_LOG.setLevel(Level.FINE);
        KERNEL_LOG.addHandler(CAPTURE);
        backend = TestBackend.start(BackendErrorLeakTest::serve);
        gateway = RunningGateway.start("""
                fronts:
                  tf-serving:
                    prefix: /tfserving
                backends:
                  plain:
                    type: http
                    url: ${URL}/v1/models/plain:predict
                  tfs:
                    type: http
                    protocol: tf-serving
                    url: ${URL}
                routes:
                  - model: plain
                    backend: plain
                  - model: tfs
                    backend: tfs
                """, null, Map.of("URL", backend.url("")));
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
        backend.close();
        KERNEL_LOG.removeHandler(CAPTURE);
        KERNEL_LOG.setLevel(null);
    }

    /** TF Serving's metadata for a model with one float input {@code x}; every call is answered with {@link #ERROR}. */
    private static Reply serve(TestBackend.Request request) {
        if (request.path().endsWith("/metadata")) {
            return Reply.json(200, """
                    {"model_spec":{"name":"tfs","signature_name":"","version":"1"},
                     "metadata":{"signature_def":{"signature_def":{"serving_default":{
                       "inputs":{"x":{"dtype":"DT_FLOAT","tensor_shape":{"dim":[{"size":"-1"}]},"name":"x:0"}},
                       "outputs":{"y":{"dtype":"DT_FLOAT","tensor_shape":{"dim":[{"size":"-1"}]},"name":"y:0"}},
                       "method_name":"tensorflow/serving/predict"}}}}}""");
        }
        return ERROR.get();
    }

    private static HttpResponse<String> viaGatewayApi(Reply error) {
        ERROR.set(error);
        return gateway.post("/v1/models/plain:predict", "application/json", "{\"instances\":[[1.0]]}",
                "X-Request-Id", "leak-test-1");
    }

    private static void assertNothingLeaks(HttpResponse<String> response) {
        String body = response.body();
        assertTrue(body.length() < 512, "answer of " + body.length() + " characters");
        for (String leak : List.of("com.internal", "at org.", "jdbc", "<html", "Traceback", "app.py", "xxxxxxxxxx",
                "\\t", "\\n")) {
            assertFalse(body.contains(leak), leak + " in " + body);
        }
    }

    @Test
    void aJavaStackTraceIsNotPassedOnButLoggedAtDebugWithTheRequestId() throws Exception {
        DEBUG_LOG.clear();
        HttpResponse<String> response = viaGatewayApi(new Reply(500, "text/plain", STACK_TRACE));

        Answers.assertError(response, 502, 40005);
        assertEquals("backend failed: backend answered HTTP 500", Gateways.JSON.readTree(response.body())
                .get("message").asText());
        assertNothingLeaks(response);
        assertTrue(DEBUG_LOG.stream().anyMatch(logged -> logged.getLevel() == Level.FINE
                        && List.of(logged.getParameters()).contains("leak-test-1")
                        && List.of(logged.getParameters()).contains(STACK_TRACE)),
                "the whole body is logged at debug level with the request id");
    }

    @Test
    void anHtmlPageIsNotPassedOn() throws Exception {
        HttpResponse<String> response = viaGatewayApi(new Reply(503, "text/html", HTML));

        Answers.assertError(response, 502, 40005);
        assertNothingLeaks(response);
    }

    @Test
    void aMegabyteOfTextIsNotPassedOn() throws Exception {
        HttpResponse<String> response = viaGatewayApi(new Reply(400, "text/plain", HUGE));

        Answers.assertError(response, 400, 40006);
        assertNothingLeaks(response);
    }

    @Test
    void theProtocolsMessageFieldIsPassedOnWithoutItsStackFramesAndControlCharacters() throws Exception {
        String error = Gateways.JSON.createObjectNode().put("error", STACK_TRACE + "\u0007").toString();
        JsonNode answer = Gateways.JSON.readTree(viaGatewayApi(Reply.json(500, error)).body());

        assertEquals("backend failed: backend answered HTTP 500: java.lang.NullPointerException: Cannot invoke "
                + "\"Pool.get()\" because \"pool\" is null Caused by: java.sql.SQLException: jdbc connection refused",
                answer.get("message").asText());
    }

    @Test
    void openAisErrorMessageIsTheMessageAndALongOneIsShortened() throws Exception {
        String error = "{\"error\":{\"type\":\"server_error\",\"message\":\"" + "overloaded ".repeat(100) + "\"}}";
        String message = Gateways.JSON.readTree(viaGatewayApi(Reply.json(500, error)).body()).get("message").asText();

        assertTrue(message.startsWith("backend failed: backend answered HTTP 500: overloaded overloaded"), message);
        assertTrue(message.endsWith("..."), message);
        assertTrue(message.length() < 300, message);
    }

    @Test
    void aClientOfTheBackendsOwnProtocolGetsOnlyTheMessageInItsShape() throws Exception {
        for (Reply error : List.of(new Reply(500, "text/plain", STACK_TRACE), new Reply(500, "text/html", HTML),
                new Reply(500, "text/plain", HUGE))) {
            ERROR.set(error);
            HttpResponse<String> response = gateway.post("/tfserving/v1/models/tfs:predict", "application/json",
                    "{\"instances\":[1.0]}");

            assertEquals(500, response.statusCode());
            assertEquals("{\"error\":\"backend answered HTTP 500\"}", response.body());
        }
        ERROR.set(Reply.json(404, "{\"error\":\"Servable not found\\n\\tat tensorflow.Serving.find(s.cc:3)\"}"));
        HttpResponse<String> response = gateway.post("/tfserving/v1/models/tfs:predict", "application/json",
                "{\"instances\":[1.0]}");
        assertEquals(404, response.statusCode());
        assertEquals("{\"error\":\"Servable not found\"}", response.body());
    }

    @Test
    void aClientOfAnotherProtocolGetsNoneOfIt() throws Exception {
        for (Reply error : List.of(new Reply(500, "text/plain", STACK_TRACE), new Reply(500, "text/html", HTML),
                new Reply(500, "text/plain", HUGE))) {
            ERROR.set(error);
            HttpResponse<String> response = gateway.post("/v2/models/tfs/infer", "application/json",
                    "{\"inputs\":[{\"name\":\"x\",\"shape\":[1],\"datatype\":\"FP32\",\"data\":[1.0]}]}");

            assertEquals(502, response.statusCode(), response.body());
            assertNothingLeaks(response);
            assertEquals("backend failed: backend answered HTTP 500",
                    Gateways.JSON.readTree(response.body()).get("error").asText());
        }
    }
}
