package dev.modelgate.plugins.profiling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.spi.Json;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import jdk.jfr.FlightRecorder;
import jdk.jfr.RecordingState;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordingFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProfilingTest {

    private static final String TOKEN = "admin-token-for-profiling-0123456789";
    private static final String CONFIG = """
            admin:
              token: %s
              profiling:
                max-seconds: 20
            """.formatted(TOKEN) + RunningGateway.ECHO_ROUTE;
    private static final HttpClient CLIENT = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @TempDir
    Path tmp;

    @Test
    void goToolPprofReadsTheCpuProfileTakenUnderLoadAndListsGatewayFrames() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(CONFIG); Load load = new Load(gateway)) {
            load.awaitAnswers();
            String top = goToolPprofTop(gateway, "/debug/pprof/profile?seconds=2");

            assertTrue(top.contains("Type: cpu"), top);
            assertTrue(top.contains("dev.modelgate."), top);
        }
    }

    @Test
    void goToolPprofReadsTheAllocationsTakenUnderLoadAndListsGatewayFrames() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(CONFIG); Load load = new Load(gateway)) {
            load.awaitAnswers();
            String top = goToolPprofTop(gateway, "/debug/pprof/heap?seconds=2");

            assertTrue(top.contains("Type: allocations"), top);
            assertTrue(top.contains("dev.modelgate."), top);
        }
    }

    @Test
    void goToolPprofReadsTheGoroutinesWithGatewayFrames() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(CONFIG); Load load = new Load(gateway)) {
            load.awaitAnswers();
            String top = goToolPprofTop(gateway, "/debug/pprof/goroutine");

            assertTrue(top.contains("Type: goroutine"), top);
            assertTrue(top.contains("dev.modelgate."), top);
        }
    }

    @Test
    void theGoroutineTextHasEveryThreadVirtualOnesIncluded() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(CONFIG); ParkedVirtualThread parked = new ParkedVirtualThread()) {
            HttpResponse<String> text = admin(gateway, "/debug/pprof/goroutine?debug=2");

            assertEquals(200, text.statusCode(), text.body());
            assertTrue(text.body().contains("[WAITING, virtual, \"" + parked.name() + "\"]:\n"), text.body());
            assertTrue(text.body().contains("java.util.concurrent.CountDownLatch.await(...)\n"
                    + "\tCountDownLatch.java:"), text.body());
        }
    }

    @Test
    void aSecondRecordingIsRefusedWhileOneRuns() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(CONFIG)) {
            CompletableFuture<HttpResponse<byte[]>> first = CLIENT.sendAsync(authorized(gateway,
                    "/debug/pprof/profile?seconds=3"), HttpResponse.BodyHandlers.ofByteArray());
            Await.until("the first recording runs", () -> FlightRecorder.getFlightRecorder().getRecordings().stream()
                    .anyMatch(recording -> recording.getName().equals("modelgate-profiling")
                            && recording.getState() == RecordingState.RUNNING));

            for (String path : List.of("/debug/pprof/profile?seconds=1", "/debug/pprof/heap?seconds=1",
                    "/debug/jvm/recording?seconds=1")) {
                HttpResponse<String> second = admin(gateway, path);
                assertEquals(409, second.statusCode(), path);
                assertTrue(second.body().contains("\"code\":30901"), second.body());
            }
            assertEquals(200, first.get(30, TimeUnit.SECONDS).statusCode());
            assertEquals(200, admin(gateway, "/debug/pprof/profile?seconds=1").statusCode(),
                    "a recording can be asked for again once the first has ended");
        }
    }

    @Test
    void secondsMustBeAWholeNumberUpToTheMaximum() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(CONFIG)) {
            for (String seconds : List.of("abc", "0", "-1", "1.5", "", "21", "99999999999", "%D9%A3")) {
                for (String path : List.of("/debug/pprof/profile", "/debug/pprof/heap", "/debug/jvm/recording")) {
                    HttpResponse<String> response = admin(gateway, path + "?seconds=" + seconds);
                    assertEquals(400, response.statusCode(), path + " " + seconds);
                    assertTrue(response.body().contains("\"code\":20901"), response.body());
                    assertTrue(response.body().contains("from 1 to 20"), response.body());
                }
            }
            HttpResponse<String> debug = admin(gateway, "/debug/pprof/goroutine?debug=1");
            assertEquals(400, debug.statusCode());
            assertTrue(debug.body().contains("\"code\":20902"), debug.body());
            HttpResponse<String> settings = admin(gateway, "/debug/jvm/recording?seconds=1&settings=all");
            assertEquals(400, settings.statusCode());
            assertTrue(settings.body().contains("\"code\":20902"), settings.body());
        }
    }

    @Test
    void everyProfilingEndpointNeedsTheAdminCredentials() throws Exception {
        List<String> paths = List.of("/debug/pprof/profile?seconds=1", "/debug/pprof/heap?seconds=1",
                "/debug/pprof/goroutine", "/debug/jvm/recording?seconds=1", "/debug/jvm/threads",
                "/debug/jvm/histogram");
        try (RunningGateway gateway = RunningGateway.start(CONFIG)) {
            for (String path : paths) {
                HttpResponse<String> none = RunningGateway.send(HttpRequest.newBuilder(gateway.adminUri(path)));
                HttpResponse<String> wrong = RunningGateway.send(HttpRequest.newBuilder(gateway.adminUri(path)),
                        "Authorization", "Bearer " + TOKEN + "x");
                assertEquals(401, none.statusCode(), path);
                assertTrue(none.body().contains("\"code\":10001"), none.body());
                assertEquals(401, wrong.statusCode(), path);
            }
        }
        try (RunningGateway gateway = RunningGateway.start(RunningGateway.ECHO_ROUTE)) {
            for (String path : paths) {
                HttpResponse<String> disabled = RunningGateway.send(HttpRequest.newBuilder(gateway.adminUri(path)),
                        "Authorization", "Bearer " + TOKEN);
                assertEquals(403, disabled.statusCode(), path);
                assertTrue(disabled.body().contains("\"code\":10002"), disabled.body());
            }
        }
    }

    @Test
    void theJfrRecordingDownloadsAsAFileTheJdkReads() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(CONFIG)) {
            HttpResponse<Path> response = CLIENT.send(authorized(gateway, "/debug/jvm/recording?seconds=1"),
                    HttpResponse.BodyHandlers.ofFile(tmp.resolve("download.jfr")));

            assertEquals(200, response.statusCode());
            assertTrue(response.headers().firstValue("Content-Disposition").orElseThrow()
                    .matches("attachment; filename=\"modelgate-\\d{8}-\\d{6}\\.jfr\""));
            List<RecordedEvent> events = RecordingFile.readAllEvents(response.body());
            assertTrue(events.stream().anyMatch(event -> event.getEventType().getName().equals("jdk.JVMInformation")),
                    "the JDK's default settings describe the JVM in every recording");
        }
    }

    @Test
    void theThreadDumpIsTheJdksJsonWithVirtualThreads() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(CONFIG); ParkedVirtualThread parked = new ParkedVirtualThread()) {
            HttpResponse<String> response = admin(gateway, "/debug/jvm/threads");

            assertEquals(200, response.statusCode());
            assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
            List<JsonNode> threads = new ArrayList<>();
            Json.MAPPER.readTree(response.body()).path("threadDump").path("threadContainers")
                    .forEach(container -> container.path("threads").forEach(threads::add));
            assertTrue(threads.stream().anyMatch(thread -> thread.path("name").asText().equals(parked.name())
                    && thread.path("virtual").asBoolean()), response.body());
        }
    }

    @Test
    void theHeapHistogramCountsTheClassesOnTheHeap() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(CONFIG)) {
            for (String path : List.of("/debug/jvm/histogram", "/debug/jvm/histogram?all=true")) {
                HttpResponse<String> response = admin(gateway, path);

                assertEquals(200, response.statusCode(), response.body());
                assertTrue(response.body().contains(" java.lang.String (java.base@"), response.body());
                assertTrue(java.util.regex.Pattern.compile("(?m)^Total +[1-9][0-9]* +[1-9][0-9]*$")
                        .matcher(response.body()).find(), response.body());
            }
        }
    }

    @Test
    void aRecordingMayOutlastTheIdleTimeout() throws Exception {
        try (RunningGateway gateway = RunningGateway.start("server:\n  idle-timeout: 1s\n" + CONFIG)) {
            HttpResponse<String> response = admin(gateway, "/debug/pprof/profile?seconds=3");

            assertEquals(200, response.statusCode(), "the connection, silent while recording, stays open");
        }
    }

    @Test
    void heapSecondsCannotExceedTheMaximum() {
        Deployment.InvalidConfigException failure = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start("""
                        admin:
                          profiling:
                            max-seconds: 5
                            heap-seconds: 10
                        """ + RunningGateway.ECHO_ROUTE, null, Map.of()).close());

        assertEquals(List.of("admin.profiling.heap-seconds: must not be longer than max-seconds (5), but was 10"),
                failure.problems());
    }

    private static HttpRequest authorized(RunningGateway gateway, String path) {
        return HttpRequest.newBuilder(gateway.adminUri(path)).header("Authorization", "Bearer " + TOKEN)
                .timeout(Duration.ofSeconds(60)).build();
    }

    private static HttpResponse<String> admin(RunningGateway gateway, String path) throws Exception {
        return CLIENT.send(authorized(gateway, path), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * {@code go tool pprof -top} fetching {@code path} itself, as an operator would, the admin token as the URL's
     * password. Without {@code go} on the PATH this fails: it is what the test is about.
     */
    private String goToolPprofTop(RunningGateway gateway, String path) throws IOException, InterruptedException {
        String url = "http://admin:" + TOKEN + "@127.0.0.1:" + gateway.adminPort() + path;
        ProcessBuilder command = new ProcessBuilder("go", "tool", "pprof", "-top", url)
                .redirectErrorStream(true)
                .redirectOutput(tmp.resolve("pprof.out").toFile())
                .directory(tmp.toFile());
        command.environment().put("PPROF_TMPDIR", tmp.toString()); // where pprof keeps what it fetched
        Process go = command.start();
        go.getOutputStream().close();
        assertTrue(go.waitFor(120, TimeUnit.SECONDS), "go tool pprof did not finish");
        String output = Files.readString(tmp.resolve("pprof.out"), StandardCharsets.UTF_8);
        assertEquals(0, go.exitValue(), output);
        return output;
    }

    private static void join(Thread thread) {
        try {
            thread.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Clients posting predictions to the gateway as fast as it answers, until closed. */
    private static final class Load implements AutoCloseable {
        private final AtomicBoolean running = new AtomicBoolean(true);
        private final AtomicInteger answered = new AtomicInteger();
        private final List<Thread> clients = new ArrayList<>();

        Load(RunningGateway gateway) {
            for (int i = 0; i < 4; i++) {
                clients.add(Thread.ofPlatform().name("load-" + i).start(() -> {
                    while (running.get()) {
                        if (gateway.post("/v1/models/m:predict", "application/json",
                                "{\"instances\":[[1.0,2.0]]}").statusCode() == 200) {
                            answered.incrementAndGet();
                        }
                    }
                }));
            }
        }

        void awaitAnswers() {
            Await.until("the load is answered", () -> answered.get() >= 100);
        }

        @Override
        public void close() {
            running.set(false);
            clients.forEach(ProfilingTest::join);
        }
    }

    /** A virtual thread of this JVM (the gateway's) parked until closed. */
    private static final class ParkedVirtualThread implements AutoCloseable {
        private final CountDownLatch release = new CountDownLatch(1);
        private final Thread thread;

        ParkedVirtualThread() {
            thread = Thread.ofVirtual().name("profiling-test-parked").start(() -> {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            Await.until("the virtual thread parks", () -> thread.getState() == Thread.State.WAITING);
        }

        String name() {
            return thread.getName();
        }

        @Override
        public void close() {
            release.countDown();
            join(thread);
        }
    }
}
