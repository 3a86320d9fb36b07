package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.Json;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Reloading a running gateway's configuration: what changes, what is carried over, what is refused. */
class HotReloadTest {

    private static final String TOKEN = "admin-token-for-tests-0123456789abcdef";
    private static final String PREDICT = "{\"instances\":[[1]]}";

    /** Model {@code m} on backend {@code backend}, through a {@code stamp} middleware named {@code stamp}. */
    private static String config(String backend, String stamp) {
        return """
                admin:
                  token: %s
                backends:
                  a:
                    type: echo
                    tag: a
                  b:
                    type: echo
                    tag: b
                routes:
                  - model: m
                    backend: %s
                    middlewares:
                      - type: stamp
                        name: %s
                """.formatted(TOKEN, backend, stamp);
    }

    private static HttpResponse<String> predict(RunningGateway gateway, String model) {
        return gateway.post("/v1/models/" + model + ":predict", "application/json", PREDICT);
    }

    private static JsonNode json(String body) {
        try {
            return Json.MAPPER.readTree(body);
        } catch (java.io.IOException e) {
            throw new AssertionError("not JSON: " + body, e);
        }
    }

    private static String tag(HttpResponse<String> answer) {
        return json(answer.body()).path("data").path("tag").asText();
    }

    private static HttpResponse<String> postReload(RunningGateway gateway, String... headers) {
        return RunningGateway.send(HttpRequest.newBuilder(gateway.adminUri("/reload"))
                .POST(HttpRequest.BodyPublishers.noBody()), headers);
    }

    @Test
    void fiftyReloadsUnderLoadOf32ClientsFailNoRequest() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(config("a", "s0"));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger answered = new AtomicInteger();
            ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
            List<CompletableFuture<Void>> load = java.util.stream.IntStream.range(0, 32)
                    .mapToObj(client -> CompletableFuture.runAsync(() -> {
                        while (running.get()) {
                            try {
                                HttpResponse<String> answer = predict(gateway, "m");
                                if (answer.statusCode() == 200) {
                                    answered.incrementAndGet();
                                } else {
                                    failures.add(answer.statusCode() + " " + answer.body());
                                }
                            } catch (RuntimeException e) {
                                failures.add(e.toString());
                            }
                        }
                    }, clients)).toList();

            for (int reload = 1; reload <= 50; reload++) {
                String backend = reload % 2 == 0 ? "a" : "b";
                String stamp = "s" + reload;
                Reloader.Outcome outcome = gateway.reload(config(backend, stamp));
                assertTrue(outcome.applied(), outcome.problems().toString());
                // The new route and the new middleware settings serve from the next request on.
                Await.until("reload " + reload + " serving", () -> {
                    HttpResponse<String> answer = predict(gateway, "m");
                    return answer.headers().firstValue("X-Trail").orElse("").equals(stamp)
                            && tag(answer).equals(backend);
                });
            }
            running.set(false);
            CompletableFuture.allOf(load.toArray(CompletableFuture[]::new)).join();

            assertEquals(List.of(), List.copyOf(failures));
            assertTrue(answered.get() >= 50, "requests answered under load: " + answered.get());
            gateway.assertMetric("modelgate_reloads_total{result=\"success\"} 50");
            gateway.assertMetric("modelgate_reloads_total{result=\"failure\"} 0");
        }
    }

    @Test
    void aBrokenConfigurationIsRefusedWithItsKeyPathAndTheOldOneKeepsServing() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(config("a", "s0"))) {
            java.nio.file.Files.writeString(gateway.configFile(), config("nowhere", "s1"));
            double lastSuccess = gateway.metric("modelgate_reload_last_success_timestamp_seconds");

            HttpResponse<String> unauthenticated = postReload(gateway);
            HttpResponse<String> refused = postReload(gateway, "Authorization", "Bearer " + TOKEN);

            assertEquals(401, unauthenticated.statusCode(), unauthenticated.body());
            assertEquals(422, refused.statusCode(), refused.body());
            JsonNode answer = json(refused.body());
            assertEquals(90101, answer.path("code").asInt(), refused.body());
            assertFalse(answer.path("data").path("reloaded").asBoolean(true), refused.body());
            assertTrue(answer.path("data").path("problems").get(0).asText()
                    .startsWith("routes[0].backend: unknown backend 'nowhere'"), refused.body());
            HttpResponse<String> stillServed = predict(gateway, "m");
            assertEquals(200, stillServed.statusCode(), stillServed.body());
            assertEquals("s0", stillServed.headers().firstValue("X-Trail").orElseThrow());
            gateway.assertMetric("modelgate_reloads_total{result=\"failure\"} 1");
            assertEquals(lastSuccess, gateway.metric("modelgate_reload_last_success_timestamp_seconds"));

            java.nio.file.Files.writeString(gateway.configFile(), config("b", "s2"));
            HttpResponse<String> applied = postReload(gateway, "Authorization", "Bearer " + TOKEN);
            assertEquals(200, applied.statusCode(), applied.body());
            assertTrue(json(applied.body()).path("data").path("reloaded").asBoolean(), applied.body());
            assertEquals("b", tag(predict(gateway, "m")));
        }
    }

    @Test
    void reloadAnswersOnlyPost() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(config("a", "s0"))) {
            HttpResponse<String> get = RunningGateway.send(HttpRequest.newBuilder(gateway.adminUri("/reload")),
                    "Authorization", "Bearer " + TOKEN);

            assertEquals(405, get.statusCode(), get.body());
            assertEquals("POST", get.headers().firstValue("Allow").orElseThrow());
        }
    }

    @Test
    void aReplacedBackendClosesOnlyWhenItsLastRequestEnds() throws Exception {
        EchoBackendProvider.resetGate();
        String held = """
                backends:
                  slow:
                    type: echo
                    tag: held-until-released
                    hold: true
                routes:
                  - model: m
                    backend: slow
                """;
        try (RunningGateway gateway = RunningGateway.start(held)) {
            CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(
                    () -> predict(gateway, "m"));
            Await.until("a request held by the backend", () -> EchoBackendProvider.held() == 1);

            assertTrue(gateway.reload(held.replace("held-until-released", "replacement")
                    .replace("hold: true", "hold: false")).applied());
            assertEquals("replacement", tag(predict(gateway, "m")), "new requests take the new deployment");
            assertFalse(EchoBackendProvider.closed("held-until-released"), "closed under a running request");

            EchoBackendProvider.release();
            HttpResponse<String> finished = inFlight.join();
            assertEquals(200, finished.statusCode(), finished.body());
            assertEquals("held-until-released", tag(finished), "the running request finished on the old one");
            Await.until("the old backend closed", () -> EchoBackendProvider.closed("held-until-released"));
        } finally {
            EchoBackendProvider.release();
        }
    }

    @Test
    void backendsWhoseConfigurationDidNotChangeAreCarriedOverNotRebuilt() throws Exception {
        String config = """
                backends:
                  kept:
                    type: echo
                    tag: carried-over-%1$s
                  changing:
                    type: echo
                    tag: changing-%2$s
                routes:
                  - model: kept
                    backend: kept
                  - model: changing
                    backend: changing
                """;
        try (RunningGateway gateway = RunningGateway.start(config.formatted("1", "1"))) {
            Reloader.Outcome outcome = gateway.reload(config.formatted("1", "2"));

            assertTrue(outcome.applied(), outcome.problems().toString());
            assertEquals(1, outcome.built(), "only the changed backend is built");
            assertEquals(1, outcome.carried());
            assertEquals("changing-2", tag(predict(gateway, "changing")));
            Await.until("the replaced backend closed", () -> EchoBackendProvider.closed("changing-1"));
            assertFalse(EchoBackendProvider.closed("carried-over-1"), "the carried-over backend was closed");
            assertEquals("carried-over-1", tag(predict(gateway, "kept")));
        }
    }

    @Test
    void settingsTheListenersStartedWithAreReportedAsNeedingARestart() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(config("a", "s0"))) {
            java.nio.file.Files.writeString(gateway.configFile(), """
                    server:
                      idle-timeout: 5s
                      io-threads: 3
                      max-body-size: 1MB
                    """ + config("b", "s1"));

            HttpResponse<String> answer = postReload(gateway, "Authorization", "Bearer " + TOKEN);

            assertEquals(200, answer.statusCode(), answer.body());
            JsonNode restart = json(answer.body()).path("data").path("restart_needed");
            assertEquals("[\"server.io-threads\",\"server.idle-timeout\"]", restart.toString(), answer.body());
            assertEquals("b", tag(predict(gateway, "m")), "what can change live did");
            HttpResponse<String> tooLarge = gateway.post("/v1/models/m:predict", "application/json",
                    "{\"instances\":[[" + "1,".repeat(600_000) + "1]]}");
            assertEquals(413, tooLarge.statusCode(), "max-body-size applies live");
        }
    }

    @Test
    void metricsOfRemovedRoutesAndBackendsDisappear() throws Exception {
        String both = """
                backends:
                  a:
                    type: echo
                  gone:
                    type: echo
                routes:
                  - model: m
                    backend: a
                  - model: removed
                    backend: gone
                """;
        try (RunningGateway gateway = RunningGateway.start(both)) {
            assertEquals(200, predict(gateway, "m").statusCode());
            assertEquals(200, predict(gateway, "removed").statusCode());
            gateway.awaitMetric("modelgate_requests_total{protocol=\"http\",route=\"removed:v1\",backend=\"gone\","
                    + "status=\"200\",code=\"0\"} 1");

            assertTrue(gateway.reload(both.substring(0, both.indexOf("  - model: removed"))
                    .replace("  gone:\n    type: echo\n", "")).applied());
            assertEquals(404, predict(gateway, "removed").statusCode());

            Await.until("no series of the removed route and backend", () -> {
                String scrape = gateway.metrics().text();
                return !scrape.contains("route=\"removed:v1\"") && !scrape.contains("backend=\"gone\"");
            });
            gateway.assertMetric("modelgate_requests_total{protocol=\"http\",route=\"m:v1\",backend=\"a\","
                    + "status=\"200\",code=\"0\"} 1");

            // Configured again, the route counts anew in series the scrape shows.
            assertTrue(gateway.reload(both).applied());
            assertEquals(200, predict(gateway, "removed").statusCode());
            gateway.awaitMetric("modelgate_requests_total{protocol=\"http\",route=\"removed:v1\",backend=\"gone\","
                    + "status=\"200\",code=\"0\"} 1");
            gateway.awaitMetric("modelgate_backend_request_duration_seconds_count{backend=\"gone\"} 1");
        }
    }
}
