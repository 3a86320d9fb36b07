package dev.modelgate.plugins.bulkhead;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.testing.Answers;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.BuiltPlugin;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.PhasedFilter;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The filter in a real gateway, on echo backends that each have a bulkhead of their own; {@code held} keeps each call
 * until the test releases it, so the tests decide how many calls are in progress.
 */
class BulkheadTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PREDICT_BODY = "{\"instances\":[[1.0,2.0]]}";
    private static final Duration DEADLINE = Duration.ofSeconds(10);
    /** {@code %1$s} is where each backend lists its filters. */
    private static final String BACKENDS = """
            backends:
              held:
                type: echo
                hold: true
            %1$s
              free:
                type: echo
            %1$s
              broken:
                type: echo
                fail: status-500
            %1$s
              throwing:
                type: echo
                fail: throw
            %1$s
            routes:
              - model: held
                backend: held
              - model: held-too
                backend: held
              - model: free
                backend: free
              - model: broken
                backend: broken
              - model: throwing
                backend: throwing
            """;

    private final ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor();
    private RunningGateway running;

    @BeforeEach
    void closeTheGate() {
        EchoBackendProvider.resetGate();
    }

    /** Released first, so that the gateway does not wait for held calls to drain when it stops. */
    @AfterEach
    void releaseEveryHeldCallAndStop() throws Exception {
        EchoBackendProvider.release();
        if (running != null) {
            running.close();
        }
        clients.close();
    }

    /** Starts a gateway, stopped after the test, whose every backend's bulkhead lets 2 calls through at once. */
    private RunningGateway start(String extraSettings) throws Exception {
        running = RunningGateway.start(BACKENDS.formatted("""
                filters:
                  - type: bulkhead
                    max-concurrent-calls: 2
                """.indent(4) + extraSettings.indent(8)).replace("\n\n", "\n"));
        return running;
    }

    private static HttpResponse<String> predict(RunningGateway gateway, String model, String... headers) {
        return gateway.post("/v1/models/" + model + ":predict", "application/json", PREDICT_BODY, headers);
    }

    /** Sends {@code count} requests for the held model and returns once the backend holds them all. */
    private List<CompletableFuture<HttpResponse<String>>> holdCalls(RunningGateway gateway, int count) {
        return holdCalls(gateway, count, "held");
    }

    /** Sends {@code count} requests for {@code model} and returns once the backend holds them all. */
    private List<CompletableFuture<HttpResponse<String>>> holdCalls(RunningGateway gateway, int count,
            String model) {
        List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            calls.add(CompletableFuture.supplyAsync(() -> predict(gateway, model), clients));
        }
        Await.until(count + " calls held", () -> EchoBackendProvider.held() == count);
        return calls;
    }

    private static void assertAllServed(List<CompletableFuture<HttpResponse<String>>> calls) throws Exception {
        for (CompletableFuture<HttpResponse<String>> call : calls) {
            HttpResponse<String> response = call.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
            assertEquals(200, response.statusCode(), response.body());
        }
    }

    @Test
    void refusesTheCallBeyondTheLimitAtOnceAndServesAgainWhenPlacesFree() throws Exception {
        RunningGateway gateway = start("");
        List<CompletableFuture<HttpResponse<String>>> held = holdCalls(gateway, 2);

        HttpResponse<String> refused = predict(gateway, "held");

        assertEquals(503, refused.statusCode(), refused.body());
        assertEquals(30301, Answers.code(refused));
        assertTrue(JSON.readTree(refused.body()).get("message").asText().startsWith("bulkhead full"),
                refused.body());
        assertEquals(2, EchoBackendProvider.held(), "the refused call never reached the backend");

        EchoBackendProvider.release();
        assertAllServed(held);
        assertEquals(200, predict(gateway, "held").statusCode());
    }

    @Test
    void everyRouteToABackendSharesItsPlaces() throws Exception {
        RunningGateway gateway = start("");
        List<CompletableFuture<HttpResponse<String>>> held = holdCalls(gateway, 2, "held-too");

        HttpResponse<String> refused = predict(gateway, "held");

        assertEquals(30301, Answers.code(refused), refused.body());
        EchoBackendProvider.release();
        assertAllServed(held);
    }

    @Test
    void refusesAfterWaitingMaxWaitForAPlace() throws Exception {
        RunningGateway gateway = start("max-wait: 300ms");
        holdCalls(gateway, 2);
        long start = System.nanoTime();

        HttpResponse<String> refused = predict(gateway, "held");

        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(30301, Answers.code(refused), refused.body());
        assertTrue(waitedMillis >= 300, "waited " + waitedMillis + "ms");
        assertTrue(waitedMillis < 5_000, "waited " + waitedMillis + "ms");
    }

    @Test
    void aWaitingCallTakesThePlaceFreedWithinMaxWait() throws Exception {
        RunningGateway gateway = start("max-wait: 10s");
        List<CompletableFuture<HttpResponse<String>>> held = holdCalls(gateway, 2);
        CompletableFuture<HttpResponse<String>> waiting =
                CompletableFuture.supplyAsync(() -> predict(gateway, "held"), clients);
        gateway.awaitMetric("modelgate_bulkhead_waiting{backend=\"held\"} 1");

        EchoBackendProvider.release();

        held.add(waiting);
        assertAllServed(held);
    }

    @Test
    void neverWaitsPastTheRequestsDeadline() throws Exception {
        RunningGateway gateway = start("max-wait: 1m");
        holdCalls(gateway, 2);
        long start = System.nanoTime();

        HttpResponse<String> refused = predict(gateway, "held", "X-Request-Timeout", "300ms");

        long waitedMillis = (System.nanoTime() - start) / 1_000_000;
        assertEquals(30301, Answers.code(refused), refused.body());
        assertTrue(waitedMillis >= 300, "gave up before the deadline: " + waitedMillis + "ms");
        assertTrue(waitedMillis < 10_000, "waited " + waitedMillis + "ms of a 300ms deadline");
    }

    @Test
    void givesThePlaceBackWhenTheCallFailsOrTheBackendThrows() throws Exception {
        RunningGateway gateway = start("");
        for (int i = 0; i < 5; i++) {
            assertEquals(40005, Answers.code(predict(gateway, "broken")));
            assertEquals(90001, Answers.code(predict(gateway, "throwing")));
        }

        gateway.assertMetric("modelgate_bulkhead_in_flight{backend=\"broken\"} 0");
        gateway.assertMetric("modelgate_bulkhead_in_flight{backend=\"throwing\"} 0");
    }

    @Test
    void aFullBackendDoesNotHoldUpAnother() throws Exception {
        RunningGateway gateway = start("");
        holdCalls(gateway, 2);
        assertEquals(30301, Answers.code(predict(gateway, "held")));

        HttpResponse<String> other = predict(gateway, "free");

        assertEquals(200, other.statusCode(), other.body());
    }

    @Test
    void exportsCallsInProgressAndRefusalsPerBackend() throws Exception {
        RunningGateway gateway = start("");
        holdCalls(gateway, 2);
        predict(gateway, "held");
        predict(gateway, "free");

        gateway.assertMetric("modelgate_bulkhead_in_flight{backend=\"held\"} 2");
        gateway.assertMetric("modelgate_bulkhead_in_flight{backend=\"free\"} 0");
        gateway.assertMetric("modelgate_bulkhead_rejected_total{backend=\"held\"} 1");
        gateway.assertMetric("modelgate_bulkhead_rejected_total{backend=\"free\"} 0");
    }

    @Test
    void doesNotCountReadingAModelsMetadata() throws Exception {
        RunningGateway gateway = start("");
        holdCalls(gateway, 2);

        assertEquals(200, gateway.get("/v1/models/held").statusCode());
    }

    @Test
    void aZeroMaxWaitRefusesTheCallBeyondTheLimitWithoutWaiting() throws Exception {
        RunningGateway gateway = start("max-wait: 0");
        List<CompletableFuture<HttpResponse<String>>> held = holdCalls(gateway, 2);
        CompletableFuture<HttpResponse<String>> third =
                CompletableFuture.supplyAsync(() -> predict(gateway, "held"), clients);
        // Answered, or waiting for a place, which the release below would then give it: either way, no timing.
        Await.until("the third call answered or waiting", () -> third.isDone()
                || gateway.metrics().holds("modelgate_bulkhead_waiting{backend=\"held\"} 1"));

        EchoBackendProvider.release();

        HttpResponse<String> refused = third.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
        assertEquals(30301, Answers.code(refused), refused.body());
        assertAllServed(held);
    }

    @Test
    void reportsInvalidSettingsByKey() {
        Deployment.InvalidConfigException invalid = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(BACKENDS.formatted("").replace("\n\n", "\n").replace(
                        "    hold: true\n", """
                            hold: true
                            filters:
                              - type: bulkhead
                                max-concurrent-calls: 0
                                max-wait: a while
                        """)).close());

        assertEquals(List.of(
                "backends.held.filters[0].max-concurrent-calls: must be between 1 and 1000000, but was 0",
                "backends.held.filters[0].max-wait: must be a positive duration such as 250ms, 5s, 2m or 1h, but was "
                        + "'a while'"),
                invalid.problems());
    }

    @Test
    void rejectsBadValuesByName() {
        assertEquals("max-concurrent-calls must be between 1 and 1000000, but was 0",
                assertThrows(IllegalArgumentException.class, () -> new BulkheadConfig(0, Duration.ZERO))
                        .getMessage());
        assertEquals("max-wait must not be negative, but was -1ms",
                assertThrows(IllegalArgumentException.class, () -> new BulkheadConfig(1, Duration.ofMillis(-1)))
                        .getMessage());
    }

    @Test
    void isPhasedUnlessACallMayWaitForAPlace() throws Exception {
        BulkheadProvider provider = new BulkheadProvider();
        try (var refusing = BuiltPlugin.filter(provider, "max-concurrent-calls: 2");
                var waiting = BuiltPlugin.filter(provider, "max-concurrent-calls: 2\nmax-wait: 100ms")) {
            assertInstanceOf(PhasedFilter.class, refusing.instance());
            assertFalse(waiting.instance() instanceof PhasedFilter, "a wait for a place must not park an IO thread");
        }
    }
}
