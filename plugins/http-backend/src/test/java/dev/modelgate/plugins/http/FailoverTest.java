package dev.modelgate.plugins.http;

import static dev.modelgate.plugins.http.Gateways.FAST_HEALTH_CHECK;
import static dev.modelgate.plugins.http.Gateways.PREDICTIONS;
import static dev.modelgate.plugins.http.Gateways.assertProblem;
import static dev.modelgate.plugins.http.Gateways.config;
import static dev.modelgate.plugins.http.Gateways.predict;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.kernel.testing.RunningGateway;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Multi-cluster failover: instances in two localities behind one {@code http} backend, each a real server on
 * loopback; the gateway's own locality is the first priority level, and traffic moves to the other as the first's
 * instances fail their health checks, by Envoy's priority load (health × 1.4, capped at 100).
 */
class FailoverTest {

    /** A model server stand-in that answers 503 to everything while down, and counts the predicts it answered. */
    private static final class Region implements AutoCloseable {
        final List<TestBackend> servers = new ArrayList<>();
        final List<AtomicBoolean> down = new ArrayList<>();
        final AtomicInteger predicts = new AtomicInteger();

        Region(int instances) throws Exception {
            for (int i = 0; i < instances; i++) {
                AtomicBoolean isDown = new AtomicBoolean();
                down.add(isDown);
                servers.add(TestBackend.start(request -> {
                    if (isDown.get()) {
                        return Reply.json(503, "{\"error\":\"region down\"}");
                    }
                    if (request.path().equals("/healthz")) {
                        return Reply.json(200, "{}");
                    }
                    predicts.incrementAndGet();
                    return Reply.json(200, PREDICTIONS);
                }));
            }
        }

        /** Instance entries {@code PREFIX-1, PREFIX-2...} of {@code locality}, for an {@code instances} list. */
        String instances(String prefix, String locality) {
            StringBuilder yaml = new StringBuilder();
            for (int i = 0; i < servers.size(); i++) {
                yaml.append("  - {name: ").append(prefix).append('-').append(i + 1).append(", url: '")
                        .append(servers.get(i).url("/predict")).append("', locality: ").append(locality)
                        .append("}\n");
            }
            return yaml.toString();
        }

        /** Takes down (answering 503) the first {@code count} instances, and brings the others up. */
        void down(int count) {
            for (int i = 0; i < down.size(); i++) {
                down.get(i).set(i < count);
            }
        }

        @Override
        public void close() {
            servers.forEach(TestBackend::close);
        }
    }

    private static RunningGateway gateway(Region home, Region away) throws Exception {
        return RunningGateway.start("server:\n  locality: eu-west-1\n" + config("instances:\n"
                + home.instances("eu", "eu-west-1") + away.instances("us", "us-east-1") + FAST_HEALTH_CHECK, ""));
    }

    /** Sends {@code times} predicts, each answered 200, and returns how many each region took. */
    private static int[] predictTimes(RunningGateway gateway, int times, Region home, Region away) {
        int homeBefore = home.predicts.get();
        int awayBefore = away.predicts.get();
        for (int i = 0; i < times; i++) {
            HttpResponse<String> response = predict(gateway);
            assertEquals(200, response.statusCode(), response.body());
        }
        return new int[] {home.predicts.get() - homeBefore, away.predicts.get() - awayBefore};
    }

    private static void awaitLoad(RunningGateway gateway, int homeLoad) {
        gateway.awaitMetric("modelgate_backend_priority_load{backend=\"remote\",priority=\"0\"} " + homeLoad);
        gateway.awaitMetric("modelgate_backend_priority_load{backend=\"remote\",priority=\"1\"} " + (100 - homeLoad));
    }

    @Test
    void trafficSpillsToTheOtherLocalityInProportionAsTheOwnFailsAndComesBack() throws Exception {
        try (Region home = new Region(4); Region away = new Region(2);
                RunningGateway gateway = gateway(home, away)) {
            assertEquals(100, predictTimes(gateway, 100, home, away)[0], "all traffic stays home while it is healthy");

            home.down(1);
            gateway.awaitMetric("modelgate_backend_instance_healthy{backend=\"remote\",instance=\"eu-1\"} 0");
            awaitLoad(gateway, 100);
            assertEquals(100, predictTimes(gateway, 100, home, away)[0],
                    "three of four healthy: 75% × 1.4 is over 100, the level is overprovisioned enough");

            home.down(2);
            awaitLoad(gateway, 70);
            int[] halfDown = predictTimes(gateway, 100, home, away);
            assertEquals(70, halfDown[0], 2, "two of four healthy: 50% × 1.4 = 70% stays home");
            assertEquals(30, halfDown[1], 2, "the other 30% goes to the next priority");

            home.down(3);
            awaitLoad(gateway, 35);
            int[] quarter = predictTimes(gateway, 100, home, away);
            assertEquals(35, quarter[0], 2, "one of four: 25% × 1.4 = 35%");

            home.down(4);
            awaitLoad(gateway, 0);
            assertEquals(100, predictTimes(gateway, 100, home, away)[1], "a regional outage moves all traffic");

            home.down(0);
            awaitLoad(gateway, 100);
            assertEquals(100, predictTimes(gateway, 100, home, away)[0], "and it moves back when health returns");
        }
    }

    @Test
    void explicitPrioritiesOrderLocalitiesTheGatewayDoesNotKnow() throws Exception {
        try (Region first = new Region(2); Region second = new Region(2)) {
            String instances = first.instances("a", "zone-a").replace("}\n", ", priority: 0}\n")
                    + second.instances("b", "zone-b").replace("}\n", ", priority: 3}\n");
            try (RunningGateway gateway = RunningGateway.start(config("instances:\n" + instances + FAST_HEALTH_CHECK,
                    ""))) {
                assertEquals(10, predictTimes(gateway, 10, first, second)[0]);

                first.down(2);
                gateway.awaitMetric("modelgate_backend_priority_load{backend=\"remote\",priority=\"3\"} 100");
                assertEquals(10, predictTimes(gateway, 10, first, second)[1]);
            }
        }
    }

    @Test
    void aNegativePriorityIsRefusedWithItsKeyPath() {
        assertProblem(config("""
                instances:
                  - {url: 'http://127.0.0.1:9/predict', priority: -1}
                """, ""), "backends.remote.instances[0].priority: must be between 0 and 127, but was -1");
    }

    @Test
    void aMalformedLocalityIsRefusedWithItsKeyPath() {
        assertProblem(config("""
                instances:
                  - {url: 'http://127.0.0.1:9/predict', locality: 'eu west'}
                """, ""), "backends.remote.instances[0].locality: must be 1 to 128 letters");
    }

    @Test
    void aMisspeltInstanceKeyIsRefusedWithItsKeyPath() {
        assertProblem(config("""
                instances:
                  - {url: 'http://127.0.0.1:9/predict', prioirty: 1}
                """, ""), "backends.remote.instances[0].prioirty: unknown key");
    }

    @Test
    void labelsMustBeStrings() {
        assertProblem(config("""
                instances:
                  - {url: 'http://127.0.0.1:9/predict', labels: {device: [a, b]}}
                """, ""), "backends.remote.instances[0].labels.device: must be a string");
    }
}
