package dev.modelgate.plugins.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.IoThreads;
import dev.modelgate.kernel.upstream.IoUpstreamHttp;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.plugins.pool.HealthCheckSettings;
import dev.modelgate.plugins.pool.HealthChecker;
import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import dev.modelgate.spi.upstream.UpstreamHttp;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamSettings;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The HTTP probe in health check rounds driven one at a time against real servers, so thresholds count exactly. */
class HealthCheckerTest {

    private static final HealthCheckSettings SETTINGS =
            new HealthCheckSettings("/healthz", Duration.ofHours(1), Duration.ofMillis(500), 2, 3);

    /** Probes over pools of {@code upstream}. */
    private static HealthChecker checker(UpstreamHttp upstream, TestBackend... backends) {
        List<Instance> instances = new ArrayList<>();
        List<UpstreamPool> pools = new ArrayList<>();
        for (TestBackend backend : backends) {
            URI url = URI.create(backend.url("/v1/models/m:predict"));
            instances.add(new Instance(instances.size(), "i" + instances.size(), url, 1));
            pools.add(upstream.open(url, new UpstreamSettings(2, Duration.ofSeconds(1), Duration.ofSeconds(1),
                    Duration.ofMinutes(1), Duration.ofMinutes(5))));
        }
        return new HealthChecker(SETTINGS, instances,
                new HealthProbe(SETTINGS, instance -> pools.get(instance.index()))::probe,
                System.getLogger("test"), "remote");
    }

    private static void rounds(HealthChecker checker, int rounds) {
        for (int i = 0; i < rounds; i++) {
            checker.probeAll();
        }
    }

    @Test
    void anInstanceGoesDownAfterTheUnhealthyThresholdAndBackAfterTheHealthyOne() throws Exception {
        AtomicInteger status = new AtomicInteger(503);
        try (TestBackend backend = TestBackend.start(request -> Reply.json(status.get(), "{}"));
                IoThreads io = new IoThreads();
                HealthChecker checker = checker(io.upstream(), backend)) {
            assertTrue(checker.healthy(0), "instances start healthy");

            rounds(checker, 2);
            assertTrue(checker.healthy(0));
            rounds(checker, 1);
            assertFalse(checker.healthy(0));

            status.set(200);
            rounds(checker, 1);
            assertFalse(checker.healthy(0));
            rounds(checker, 1);
            assertTrue(checker.healthy(0));
            assertEquals("/healthz", backend.lastRequest().path(), "probes go to the path on the instance's host");
        }
    }

    @Test
    void aPassingProbeInterruptsAStreakOfFailures() throws Exception {
        AtomicInteger status = new AtomicInteger(500);
        try (TestBackend backend = TestBackend.start(request -> Reply.json(status.get(), "{}"));
                IoThreads io = new IoThreads();
                HealthChecker checker = checker(io.upstream(), backend)) {
            rounds(checker, 2);
            status.set(200);
            rounds(checker, 1);
            status.set(500);
            rounds(checker, 2);

            assertTrue(checker.healthy(0));
        }
    }

    @Test
    void aProbeWithoutAnswerInTimeFailsAndEachInstanceIsJudgedOnItsOwn() throws Exception {
        try (TestBackend slow = TestBackend.start(
                        request -> Reply.delayed(Duration.ofSeconds(3), 200, "application/json", "{}"));
                TestBackend fine = TestBackend.start(request -> Reply.json(200, "{}"));
                IoThreads io = new IoThreads();
                HealthChecker checker = checker(io.upstream(), slow, fine)) {
            rounds(checker, 3);

            assertFalse(checker.healthy(0));
            assertTrue(checker.healthy(1));
        }
    }

    @Test
    void probesMadeBeforeTheGatewaysIoThreadsRunDoNotCount() throws Exception {
        try (TestBackend backend = TestBackend.start(request -> Reply.json(200, "{}"));
                HealthChecker checker = checker(new IoUpstreamHttp(), backend)) {
            rounds(checker, SETTINGS.unhealthyThreshold() + 1);

            assertTrue(checker.healthy(0), "a gateway still starting says nothing of its instances' health");
        }
    }
}
