package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.SelfSignedCertificate;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A drain over HTTP/2: an answer given while draining is followed by GOAWAY (no error), HTTP/2's way of saying
 * {@code Connection: close}, so the client opens no new stream there. Seen frame by frame through Debian's hyper-h2
 * (python3-h2, which scripts/test installs), as Java's client does not show a GOAWAY.
 */
class Http2DrainTest {

    @Test
    void anAnswerGivenWhileDrainingIsFollowedByGoaway(@TempDir Path folder) throws Exception {
        EchoBackendProvider.resetGate();
        SelfSignedCertificate certificate = SelfSignedCertificate.create(folder);
        RunningGateway gateway = RunningGateway.start("""
                server:
                  address: 127.0.0.1
                  tls:
                    cert-file: %s
                    key-file: %s
                backends:
                  slow:
                    type: echo
                    hold: true
                routes:
                  - model: m
                    backend: slow
                """.formatted(certificate.certFile(), certificate.keyFile()));
        Path script = Path.of(Http2DrainTest.class.getResource("/h2_drain_client.py").toURI());
        Process client = new ProcessBuilder("/usr/bin/python3", script.toString(), Integer.toString(gateway.port()))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(client.getInputStream(),
                        StandardCharsets.UTF_8));
                Writer in = new OutputStreamWriter(client.getOutputStream(), StandardCharsets.UTF_8)) {
            assertEquals("sent", out.readLine());
            Await.until("the request reaches the backend", () -> EchoBackendProvider.held() == 1);
            CompletableFuture<Boolean> drained = CompletableFuture.supplyAsync(() ->
                    gateway.gateway().shutdown(Duration.ofSeconds(10)));
            Await.until("readiness turns down", () -> gateway.adminGet("/readyz").statusCode() == 503);

            EchoBackendProvider.release();
            in.write("go\n");
            in.flush();

            JsonNode seen = new ObjectMapper().readTree(out.readLine());
            assertEquals("200", seen.path("status").asText(), seen::toString);
            assertEquals(0, seen.path("goaway").path("error").asInt(-1), "a GOAWAY without error: " + seen);
            assertTrue(seen.path("goaway").path("last_stream").asInt() >= 1, seen::toString);
            assertTrue(drained.get(10, TimeUnit.SECONDS), "the request in flight finished before the deadline");
        } finally {
            client.destroyForcibly();
            gateway.close();
        }
    }
}
