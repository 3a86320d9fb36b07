package dev.modelgate.plugins.http;

import static dev.modelgate.kernel.testing.Answers.assertError;
import static dev.modelgate.plugins.http.Gateways.FAST_HEALTH_CHECK;
import static dev.modelgate.plugins.http.Gateways.PREDICTIONS;
import static dev.modelgate.plugins.http.Gateways.config;
import static dev.modelgate.plugins.http.Gateways.predict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.net.http.HttpResponse;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Several instances behind one {@code http} backend, each a real server on loopback. */
class LoadBalancingTest {

    private static TestBackend answering(int status) throws Exception {
        return TestBackend.start(request -> Reply.json(status, status == 200 ? PREDICTIONS : "{\"error\":\"down\"}"));
    }

    /** An {@code instances} list naming the backends a, b, c... in order. */
    private static String instances(TestBackend... backends) {
        StringBuilder yaml = new StringBuilder("instances:\n");
        for (int i = 0; i < backends.length; i++) {
            yaml.append("  - {name: ").append((char) ('a' + i)).append(", url: '")
                    .append(backends[i].url("/predict")).append("'}\n");
        }
        return yaml.toString();
    }

    private static void predictTimes(RunningGateway gateway, int times, String... headers) {
        for (int i = 0; i < times; i++) {
            HttpResponse<String> response = predict(gateway, headers);
            assertEquals(200, response.statusCode(), response.body());
        }
    }

    @Test
    void roundRobinSpreadsRequestsEvenly() throws Exception {
        try (TestBackend a = answering(200); TestBackend b = answering(200); TestBackend c = answering(200);
                RunningGateway gateway = RunningGateway.start(config(instances(a, b, c), ""))) {
            predictTimes(gateway, 30);

            assertEquals(10, a.calls());
            assertEquals(10, b.calls());
            assertEquals(10, c.calls());
        }
    }

    /** Two instances weighted 90/10, the second named {@code canary}. */
    private static String canaryRelease(TestBackend main, TestBackend canary) {
        return """
                balancer: weighted
                instances:
                  - {url: '%s', weight: 90}
                  - {url: '%s', weight: 10, name: canary}
                """.formatted(main.url("/predict"), canary.url("/predict"));
    }

    @Test
    void weightedBalancingSendsExactlyTheConfiguredShareToTheCanary() throws Exception {
        try (TestBackend main = answering(200); TestBackend canary = answering(200);
                RunningGateway gateway = RunningGateway.start(config(canaryRelease(main, canary), ""))) {
            predictTimes(gateway, 100);

            assertEquals(90, main.calls());
            assertEquals(10, canary.calls());
        }
    }

    @Test
    void aHeaderRuleSendsEveryMatchingRequestToTheCanary() throws Exception {
        try (TestBackend main = answering(200); TestBackend canary = answering(200);
                RunningGateway gateway = RunningGateway.start(config(canaryRelease(main, canary) + """
                        rules:
                          - {header: X-Canary, equals: always, instances: [canary]}
                        """, ""))) {
            predictTimes(gateway, 20, "X-Canary", "always");

            assertEquals(0, main.calls());
            assertEquals(20, canary.calls());

            predictTimes(gateway, 10, "X-Canary", "never");
            assertEquals(9, main.calls(), "a request that matches no rule is balanced over the default instances");
        }
    }

    @Test
    void defaultInstancesKeepRuleOnlyInstancesOutOfOrdinaryTraffic() throws Exception {
        try (TestBackend main = answering(200); TestBackend eu = answering(200);
                RunningGateway gateway = RunningGateway.start(config("""
                        instances:
                          - {url: '%s', name: main}
                          - {url: '%s', name: eu-1}
                        default-instances: [main]
                        rules:
                          - {header: X-Region, equals: [eu, eu-west], instances: [eu-1]}
                        """.formatted(main.url("/predict"), eu.url("/predict")), ""))) {
            predictTimes(gateway, 4);
            predictTimes(gateway, 3, "X-Region", "eu-west");

            assertEquals(4, main.calls());
            assertEquals(3, eu.calls());
        }
    }

    @Test
    void leastOutstandingSendsRequestsToTheIdleInstance() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        TestBackend.Handler holdsWhenAsked = request -> {
            if (request.bodyText().contains("hold")) {
                release.await(10, TimeUnit.SECONDS);
            }
            return Reply.json(200, PREDICTIONS);
        };
        try (TestBackend a = TestBackend.start(holdsWhenAsked); TestBackend b = TestBackend.start(holdsWhenAsked);
                RunningGateway gateway = RunningGateway.start(config(instances(a, b)
                        + "balancer: least-outstanding\n", ""));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<HttpResponse<String>> held = clients.submit(() -> gateway.post(Gateways.PREDICT_PATH,
                    "application/json", "{\"instances\":[\"hold\"]}"));
            Await.until("the held request to reach an instance", () -> a.calls() + b.calls() == 1);
            TestBackend busy = a.calls() == 1 ? a : b;
            TestBackend idle = busy == a ? b : a;

            predictTimes(gateway, 10);

            assertEquals(10, idle.calls());
            assertEquals(1, busy.calls());
            release.countDown();
            assertEquals(200, held.get().statusCode());
        }
    }

    @Test
    void consistentHashingKeepsEachKeyOnOneInstance() throws Exception {
        try (TestBackend a = answering(200); TestBackend b = answering(200); TestBackend c = answering(200);
                RunningGateway gateway = RunningGateway.start(config(instances(a, b, c)
                        + "balancer: consistent-hash\nhash-key: header:X-User\n", ""))) {
            predictTimes(gateway, 12, "X-User", "alice");

            int[] calls = {a.calls(), b.calls(), c.calls()};
            assertEquals(1, java.util.Arrays.stream(calls).filter(count -> count == 12).count(),
                    java.util.Arrays.toString(calls));

            for (int user = 0; user < 30; user++) {
                predict(gateway, "X-User", "user-" + user);
            }
            assertTrue(a.calls() > 0 && b.calls() > 0 && c.calls() > 0, "different keys spread over instances");
        }
    }

    @Test
    void anInstanceIsEjectedAfterConsecutiveFailuresAndTakesNoMoreTraffic() throws Exception {
        try (TestBackend a = answering(200); TestBackend b = answering(500);
                RunningGateway gateway = RunningGateway.start(config(instances(a, b) + """
                        outlier-detection:
                          consecutive-failures: 3
                          base-ejection-time: 1m
                          max-ejection-percent: 50
                        """, ""))) {
            for (int i = 0; i < 6; i++) {
                predict(gateway);
            }
            assertEquals(3, b.calls(), "b answered 500 three times in a row");

            predictTimes(gateway, 10);

            assertEquals(3, b.calls());
            assertEquals(13, a.calls());
            Map<String, String> instanceB = Map.of("backend", "remote", "instance", "b");
            assertEquals(1, gateway.metrics().value("modelgate_backend_instance_ejections_total", instanceB));
            assertEquals(3, gateway.metrics().value("modelgate_backend_instance_failures_total", instanceB));
            assertEquals(0, gateway.metrics().value("modelgate_backend_instance_healthy", instanceB));
            assertEquals(1, gateway.metrics().value("modelgate_backend_instance_healthy",
                    Map.of("backend", "remote", "instance", "a")));
        }
    }

    @Test
    void whenEveryInstanceIsEjectedRequestsStillGoToThemInPanicMode() throws Exception {
        try (TestBackend only = answering(503);
                RunningGateway gateway = RunningGateway.start(config(instances(only) + """
                        outlier-detection: {consecutive-failures: 1, base-ejection-time: 1m}
                        """, ""))) {
            assertError(predict(gateway), 502, 40005);
            assertError(predict(gateway), 502, 40005);

            assertEquals(2, only.calls(), "the ejected instance is still tried: a guess beats a certain 503");
            assertEquals(1, gateway.metrics().value("modelgate_backend_panic_total", Map.of("backend", "remote")));
        }
    }

    @Test
    void activeHealthChecksTakeAnInstanceOutAndBringItBack() throws Exception {
        AtomicBoolean aIsHealthy = new AtomicBoolean(true);
        AtomicInteger aPredicts = new AtomicInteger();
        try (TestBackend a = TestBackend.start(request -> {
                    if (request.path().equals("/healthz")) {
                        return Reply.json(aIsHealthy.get() ? 200 : 503, "{}");
                    }
                    aPredicts.incrementAndGet();
                    return Reply.json(200, PREDICTIONS);
                });
                TestBackend b = answering(200);
                RunningGateway gateway = RunningGateway.start(config(instances(a, b) + """
                        health-check:
                          path: /healthz
                          interval: 10ms
                          timeout: 1s
                          healthy-threshold: 2
                          unhealthy-threshold: 2
                        """, ""))) {
            Map<String, String> instanceA = Map.of("backend", "remote", "instance", "a");
            aIsHealthy.set(false);
            Await.until("a to be marked unhealthy",
                    () -> gateway.metrics().value("modelgate_backend_instance_healthy", instanceA) == 0);

            predictTimes(gateway, 6);
            assertEquals(0, aPredicts.get(), "no predict reached the unhealthy instance");

            aIsHealthy.set(true);
            Await.until("a to be healthy again",
                    () -> gateway.metrics().value("modelgate_backend_instance_healthy", instanceA) == 1);
            predictTimes(gateway, 6);
            assertEquals(3, aPredicts.get());
        }
    }

    @Test
    void theGatewayIsNotReadyWhileNoInstancePassesItsHealthChecks() throws Exception {
        AtomicBoolean healthy = new AtomicBoolean(false);
        try (TestBackend only = TestBackend.start(request -> Reply.json(healthy.get() ? 200 : 503, "{}"));
                RunningGateway gateway = RunningGateway.start(config(instances(only) + FAST_HEALTH_CHECK, ""))) {
            Await.until("the gateway to report not ready", () -> gateway.adminGet("/readyz").statusCode() == 503);
            assertTrue(gateway.adminGet("/readyz").body().contains("\"unready_backends\":[\"remote\"]"));

            healthy.set(true);
            Await.until("the gateway to be ready again", () -> gateway.adminGet("/readyz").statusCode() == 200);
        }
    }

    @Test
    void aRepeatedCallGoesToAnInstanceTheRequestHasNotTriedYet() throws Exception {
        // The kernel's repeat fixture runs the backend three times per request, as the retry middleware may.
        try (TestBackend a = answering(200); TestBackend b = answering(200);
                RunningGateway gateway = RunningGateway.start("middlewares:\n  - {type: repeat, times: 3}\n"
                        + config(instances(a, b) + "balancer: consistent-hash\nhash-key: header:X-User\n", ""))) {
            predictTimes(gateway, 2, "X-User", "alice");

            // Each request: the key's owner, then the other instance, then (both tried) the owner again.
            assertEquals(Set.of(2, 4), Set.of(a.calls(), b.calls()));
        }
    }

    @Test
    void theDeadlineShortensTheWaitAndReachesTheBackend() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (TestBackend slow = TestBackend.start(request -> {
                    release.await(10, TimeUnit.SECONDS);
                    return Reply.json(200, PREDICTIONS);
                });
                RunningGateway gateway = RunningGateway.start(config(instances(slow) + """
                        request-timeout: 10s
                        """, "idempotent: true\n"))) {
            long start = System.nanoTime();

            HttpResponse<String> response = predict(gateway, "X-Request-Timeout", "300ms");

            long tookMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            release.countDown();
            // The client's own deadline ran out, not the backend's time: 40008, which no breaker counts.
            assertError(response, 504, 40008);
            assertTrue(tookMillis >= 300, "answered before the deadline: " + tookMillis + "ms");
            assertTrue(tookMillis < 5_000, "answered at the deadline, not the request timeout: " + tookMillis + "ms");
            String sent = slow.lastRequest().headers().first("X-Request-Timeout");
            long sentMillis = Long.parseLong(sent.substring(0, sent.length() - 2));
            assertTrue(sent.endsWith("ms") && sentMillis > 0 && sentMillis <= 300, sent);
            assertEquals(1, slow.calls());
        }
    }

    @Test
    void withoutADeadlineTheBackendIsToldTheRequestTimeout() throws Exception {
        try (TestBackend backend = answering(200);
                RunningGateway gateway = RunningGateway.start(config(instances(backend) + "request-timeout: 7s\n",
                        ""))) {
            predict(gateway);

            assertEquals("7000ms", backend.lastRequest().headers().first("X-Request-Timeout"));
        }
    }

    @Test
    void perInstanceRequestsAreCounted() throws Exception {
        try (TestBackend a = answering(200); TestBackend b = answering(200);
                RunningGateway gateway = RunningGateway.start(config(instances(a, b), ""))) {
            predictTimes(gateway, 4);

            Set<Double> counts = new HashSet<>();
            for (String instance : new String[] {"a", "b"}) {
                counts.add(gateway.metrics().value("modelgate_backend_instance_requests_total",
                        Map.of("backend", "remote", "instance", instance)));
            }
            assertEquals(Set.of(2.0), counts);
        }
    }
}
