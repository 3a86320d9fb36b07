package dev.modelgate.plugins.retry;

import static dev.modelgate.kernel.testing.Answers.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.net.http.HttpResponse;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The {@code retry} filter of the real {@code http} backend, over instances that are real servers on
 * loopback. Backoffs are a millisecond, or drawn at their longest where a test needs to know them.
 */
class RetryHttpBackendTest {

    private static final String PREDICTIONS = "{\"predictions\":[[0.25]]}";
    private static final String IDEMPOTENT = "idempotent: true";
    private static final String RETRIES = "modelgate_retries_total{backend=\"remote\"} ";
    private static final String EXHAUSTED = "modelgate_retry_budget_exhausted_total{backend=\"remote\"} ";

    private static TestBackend answering(int status) throws Exception {
        return TestBackend.start(request -> Reply.json(status, status == 200 ? PREDICTIONS : "{\"error\":\"no\"}"));
    }

    /**
     * Filter {@code type} with {@code settings} (a YAML flow mapping's entries) on backend {@code remote}, which
     * balances over {@code instances} by weight: the first is the favourite, at 1000 to 1 for each other, so that only
     * the preference for an untried instance sends a retry elsewhere. Routes {@code remote} and {@code remote-too}
     * both reach it, with {@code routeSettings}.
     */
    private static String gateway(String type, String settings, String routeSettings, TestBackend... instances) {
        StringBuilder yaml = new StringBuilder("backends:\n  remote:\n    type: http\n    balancer: weighted\n"
                + "    filters:\n      - {type: " + type + ", " + settings + "}\n    instances:\n");
        for (int i = 0; i < instances.length; i++) {
            yaml.append("      - {name: ").append((char) ('a' + i)).append(", weight: ").append(i == 0 ? 1000 : 1)
                    .append(", url: '").append(instances[i].url("/predict")).append("'}\n");
        }
        yaml.append("routes:\n");
        for (String model : new String[] {"remote", "remote-too"}) {
            yaml.append("  - model: ").append(model).append("\n    backend: remote\n    ").append(routeSettings)
                    .append('\n');
        }
        return yaml.toString();
    }

    private static HttpResponse<String> predict(RunningGateway gateway, String... headers) {
        return gateway.post("/v1/models/remote:predict", "application/json", "{\"instances\":[[1.0]]}", headers);
    }

    private static HttpResponse<String> predictModel(RunningGateway gateway, String model) {
        return gateway.post("/v1/models/" + model + ":predict", "application/json", "{\"instances\":[[1.0]]}");
    }

    @Test
    void aFailedCallIsRetriedOnTheOtherInstanceAndTheClientGetsItsAnswer() throws Exception {
        try (TestBackend failing = answering(500); TestBackend working = answering(200);
                RunningGateway gateway = RunningGateway.start(gateway("retry", "base-backoff: 1ms", IDEMPOTENT,
                        failing, working))) {
            for (int i = 0; i < 5; i++) {
                HttpResponse<String> response = predict(gateway);
                assertEquals(200, response.statusCode(), response.body());
            }

            assertEquals(5, failing.calls(), "the balancer's favourite took every first call");
            assertEquals(5, working.calls(), "every retry went to the instance the request had not tried");
            gateway.assertMetric(RETRIES + 5);
        }
    }

    @Test
    void aRequestOnARouteNotMarkedIdempotentIsNeverRetried() throws Exception {
        try (TestBackend failing = answering(500); TestBackend working = answering(200);
                RunningGateway gateway = RunningGateway.start(gateway("retry", "base-backoff: 1ms", "",
                        failing, working))) {
            for (int i = 0; i < 5; i++) {
                assertError(predict(gateway), 502, 40005);
            }

            assertEquals(0, working.calls());
            gateway.assertMetric(RETRIES + 0);
        }
    }

    @Test
    void aRejectionByTheBackendIsNeverRetried() throws Exception {
        try (TestBackend rejecting = answering(400); TestBackend working = answering(200);
                RunningGateway gateway = RunningGateway.start(gateway("retry", "attempts: 3, base-backoff: 1ms",
                        IDEMPOTENT, rejecting, working))) {
            assertError(predict(gateway), 400, 40006);

            assertEquals(1, rejecting.calls());
            assertEquals(0, working.calls());
        }
    }

    @Test
    void retryOnChoosesWhichCodesAreRetried() throws Exception {
        try (TestBackend rejecting = answering(400); TestBackend working = answering(200);
                RunningGateway gateway = RunningGateway.start(gateway("retry", "base-backoff: 1ms, retry-on: [40006]",
                        IDEMPOTENT, rejecting, working))) {
            assertEquals(200, predict(gateway).statusCode());

            assertEquals(1, rejecting.calls());
            assertEquals(1, working.calls());
        }
    }

    @Test
    void attemptsBoundTheCallsAndTheClientGetsTheLastAnswer() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        try (TestBackend failing = TestBackend.start(request ->
                        Reply.json(503, "{\"error\":\"failure " + calls.incrementAndGet() + "\"}"));
                RunningGateway gateway = RunningGateway.start(gateway("retry",
                        "attempts: 4, base-backoff: 1ms, min-retries-per-second: 100", IDEMPOTENT, failing))) {
            HttpResponse<String> response = predict(gateway);

            assertError(response, 502, 40005);
            assertTrue(response.body().contains("failure 4"), response.body());
            assertEquals(4, failing.calls());
            gateway.assertMetric(RETRIES + 3);
        }
    }

    @Test
    void theBudgetCapsRetriesAcrossRequests() throws Exception {
        try (TestBackend failing = answering(500);
                RunningGateway gateway = RunningGateway.start(gateway("retry",
                        "base-backoff: 1ms, budget-percent: 0, min-retries-per-second: 1", IDEMPOTENT, failing))) {
            for (int i = 0; i < 15; i++) {
                assertError(predict(gateway), 502, 40005);
            }

            // No share of the requests, and one retry a second over the budget's ten-second window, which this test
            // runs well within: ten of the fifteen requests got their retry.
            assertEquals(25, failing.calls());
            gateway.assertMetric(RETRIES + 10);
            gateway.assertMetric(EXHAUSTED + 5);
        }
    }

    @Test
    void everyRouteToABackendSharesItsBudget() throws Exception {
        try (TestBackend failing = answering(500);
                RunningGateway gateway = RunningGateway.start(gateway("retry",
                        "base-backoff: 1ms, budget-percent: 0, min-retries-per-second: 1", IDEMPOTENT, failing))) {
            for (int i = 0; i < 8; i++) {
                assertError(predictModel(gateway, "remote"), 502, 40005);
                assertError(predictModel(gateway, "remote-too"), 502, 40005);
            }

            // Ten retries in the window in all, as in theBudgetCapsRetriesAcrossRequests, whichever route asked.
            assertEquals(26, failing.calls());
            gateway.assertMetric(RETRIES + 10);
            gateway.assertMetric(EXHAUSTED + 6);
        }
    }

    @ParameterizedTest
    @CsvSource({"1m, 0", "1ms, 1"})
    void aRetryIsMadeOnlyWhenItsBackoffEndsBeforeTheDeadline(String baseBackoff, int retries) throws Exception {
        try (TestBackend failing = answering(500); TestBackend working = answering(200);
                RunningGateway gateway = RunningGateway.start(gateway("retry-highest-draw",
                        "base-backoff: " + baseBackoff + ", min-retries-per-second: 100", IDEMPOTENT, failing,
                        working))) {
            long start = System.nanoTime();

            HttpResponse<String> response = predict(gateway, "X-Request-Timeout", "5s");

            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(retries == 0 ? 502 : 200, response.statusCode(), response.body());
            assertTrue(tookMillis < 5_000, "answered within the deadline: " + tookMillis + "ms");
            assertEquals(retries, working.calls());
            gateway.assertMetric(RETRIES + retries);
        }
    }
}
