package dev.modelgate.plugins.http;

import static dev.modelgate.kernel.testing.Answers.assertError;
import static dev.modelgate.plugins.http.Gateways.PREDICTIONS;
import static dev.modelgate.plugins.http.Gateways.config;
import static dev.modelgate.plugins.http.Gateways.predict;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.RawBackend;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Backends that answer, but too slowly or too much: the call is bounded as a whole, not read by read. */
class SlowResponseTest {

    /** Writes one byte every {@code pause} until the peer hangs up or {@code over} is counted down. */
    private static RawBackend.Feed drip(Duration pause, CountDownLatch over) {
        return out -> {
            do {
                out.write(' ');
                out.flush();
            } while (!over.await(pause.toNanos(), TimeUnit.NANOSECONDS));
        };
    }

    /** Predicts once and checks the error and that it came within {@code maxMillis}, whatever the backend does. */
    private static void assertAnsweredWithin(RunningGateway gateway, int status, int code, long maxMillis,
            String why) throws Exception {
        long start = System.nanoTime();

        var response = predict(gateway);

        long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        assertError(response, status, code);
        assertTrue(took < maxMillis, why + ": " + took + "ms");
    }

    @Test
    void aBackendDrippingItsAnswerIsCutOffAtTheRequestTimeout() throws Exception {
        CountDownLatch over = new CountDownLatch(1);
        try (RawBackend dripping = new RawBackend("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + "Content-Length: 100000\r\n\r\n", drip(Duration.ofMillis(50), over));
                RunningGateway gateway = RunningGateway.start(config("""
                        url: '%s'
                        connect-timeout: 200ms
                        request-timeout: 500ms
                        """.formatted(dripping.url("/predict")), ""))) {
            assertAnsweredWithin(gateway, 504, 40004, 3_000, "bounded by the request timeout, not the backend's pace");
        } finally {
            over.countDown();
        }
    }

    @Test
    void anAnswerOverTheSizeLimitIsDroppedNotDrained() throws Exception {
        try (RawBackend endless = new RawBackend("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                + "Transfer-Encoding: chunked\r\n\r\n", out -> {
                    byte[] chunk = ("4000\r\n" + " ".repeat(0x4000) + "\r\n").getBytes(StandardCharsets.US_ASCII);
                    try {
                        while (true) {
                            out.write(chunk);
                        }
                    } catch (IOException e) {
                        // the gateway hung up, as it should
                    }
                });
                RunningGateway gateway = RunningGateway.start(config("""
                        url: '%s'
                        max-response-size: 64KB
                        request-timeout: 30s
                        """.formatted(endless.url("/predict")), ""))) {
            assertAnsweredWithin(gateway, 502, 40011, 5_000, "the endless body was not read to its end");
        }
    }

    @Test
    void aClientsShortDeadlineIsNeverHeldAgainstTheInstance() throws Exception {
        try (TestBackend slow = TestBackend.start(
                        request -> TestBackend.Reply.delayed(Duration.ofMillis(300), 200, "application/json",
                                PREDICTIONS));
                RunningGateway gateway = RunningGateway.start(config("""
                        url: '%s'
                        request-timeout: 5s
                        outlier-detection:
                          consecutive-failures: 2
                          base-ejection-time: 1m
                        """.formatted(slow.url("/predict")), ""))) {
            for (int i = 0; i < 3; i++) {
                assertError(predict(gateway, "X-Request-Timeout", "50ms"), 504, 40008);
            }

            assertEquals(200, predict(gateway).statusCode(), "the instance was not ejected");
            assertEquals(0, gateway.metrics().value("modelgate_backend_instance_ejections_total",
                    Map.of("backend", "remote", "instance", "127.0.0.1:" + slow.port())));
        }
    }
}
