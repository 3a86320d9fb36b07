package dev.modelgate.plugins.bulkhead;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** A burst of clients in front of a real model server that answers only when the test lets it. */
class BulkheadHttpBackendTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    @Test
    void aBurstReachesTheBackendNoMoreThanTheLimitAtOnceAndTheRestIsRefused() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (TestBackend backend = TestBackend.start(request -> {
                    release.await(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                    return Reply.json(200, "{\"predictions\":[[1.0]]}");
                });
                RunningGateway gateway = RunningGateway.start("""
                        backends:
                          remote:
                            type: http
                            url: %s
                            request-timeout: 30s
                            filters:
                              - type: bulkhead
                                max-concurrent-calls: 3
                        routes:
                          - model: remote
                            backend: remote
                        """.formatted(backend.url("/predict")));
                ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            List<CompletableFuture<HttpResponse<String>>> burst = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                burst.add(CompletableFuture.supplyAsync(() -> gateway.post("/v1/models/remote:predict",
                        "application/json", "{\"instances\":[[1.0]]}"), clients));
            }
            Await.until("3 calls at the backend and 9 refused",
                    () -> burst.stream().filter(CompletableFuture::isDone).count() >= 9 && backend.calls() >= 3);

            release.countDown();

            List<String> answers = new ArrayList<>();
            for (CompletableFuture<HttpResponse<String>> call : burst) {
                HttpResponse<String> response = call.get(DEADLINE.toSeconds(), TimeUnit.SECONDS);
                answers.add(response.statusCode() + " " + response.body());
            }
            assertEquals(3, answers.stream().filter(answer -> answer.startsWith("200 ")).count(), answers::toString);
            assertEquals(9, answers.stream().filter(answer -> answer.contains("\"code\":30301")).count(),
                    answers::toString);
            assertEquals(3, backend.maxConcurrentCalls());
        }
    }
}
