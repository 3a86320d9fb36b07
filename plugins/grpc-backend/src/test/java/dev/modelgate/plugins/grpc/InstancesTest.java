package dev.modelgate.plugins.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.modelgate.kernel.testing.RunningGateway;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The instance pool behind gRPC servers: round robin, ejection of a failing instance, health checks, readiness. */
class InstancesTest {

    private static final Duration DEADLINE = Duration.ofSeconds(10);

    private static RunningGateway gateway(String protocol, String instances, String more) throws Exception {
        return RunningGateway.start("""
                backends:
                  pool:
                    type: grpc
                    protocol: %s
                    instances:
                %s
                %s
                routes:
                  - {model: half, backend: pool}
                  - {model: double, backend: pool}
                """.formatted(protocol, instances, more.indent(4)));
    }

    private static String instances(ModelServer... servers) {
        StringBuilder list = new StringBuilder();
        for (int i = 0; i < servers.length; i++) {
            list.append("      - {name: ").append((char) ('a' + i)).append(", url: '").append(servers[i].url())
                    .append("'}\n");
        }
        return list.toString().stripTrailing();
    }

    /** The statuses of {@code times} predictions of {@code half}, one after the other. */
    private static List<Integer> predict(RunningGateway gateway, int times) {
        List<Integer> statuses = new ArrayList<>();
        for (int i = 0; i < times; i++) {
            statuses.add(gateway.post("/v2/models/half/infer", "application/json", """
                    {"inputs":[{"name":"features","shape":[1,1],"datatype":"FP32","data":[4]}]}""").statusCode());
        }
        return statuses;
    }

    private static void awaitHealthy(RunningGateway gateway, String instance, int healthy) {
        gateway.awaitMetric("modelgate_backend_instance_healthy{backend=\"pool\",instance=\"" + instance + "\"} "
                + healthy, DEADLINE);
    }

    @Test
    void callsTakeTurnsAndAnUnavailableInstanceIsEjected() throws Exception {
        try (ModelServer a = ModelServer.start(); ModelServer b = ModelServer.start();
                RunningGateway gateway = gateway("model-service", instances(a, b), """
                        outlier-detection:
                          consecutive-failures: 2
                          base-ejection-time: 1m
                          max-ejection-percent: 50
                        """)) {
            assertEquals(List.of(200, 200, 200, 200), predict(gateway, 4));
            assertEquals(2, a.inferences.get());
            assertEquals(2, b.inferences.get());

            a.unavailable.set(true);
            assertEquals(List.of(503, 200, 503, 200), predict(gateway, 4), "UNAVAILABLE is 40003's 503");
            assertEquals(List.of(200, 200, 200, 200, 200, 200), predict(gateway, 6));
            assertEquals(4, a.inferences.get(), "no call reached the ejected instance");
            gateway.awaitMetric("modelgate_backend_instance_ejections_total{backend=\"pool\",instance=\"a\"} 1",
                    DEADLINE);
        }
    }

    @Test
    void aModelServiceServerNotServingIsTakenOutAndComesBack() throws Exception {
        try (ModelServer a = ModelServer.start(); ModelServer b = ModelServer.start();
                RunningGateway gateway = gateway("model-service", instances(a, b), """
                        health-check:
                          interval: 10ms
                          timeout: 1s
                          healthy-threshold: 1
                          unhealthy-threshold: 1
                        """)) {
            a.serving(false);
            awaitHealthy(gateway, "a", 0);
            assertEquals(List.of(200, 200, 200, 200), predict(gateway, 4));
            assertEquals(0, a.inferences.get());

            a.serving(true);
            awaitHealthy(gateway, "a", 1);
            predict(gateway, 4);
            assertEquals(2, a.inferences.get());
        }
    }

    @Test
    void callsSpillToTheOtherLocalityAsTheOwnStopsServingAndComeBack() throws Exception {
        try (ModelServer home1 = ModelServer.start(); ModelServer home2 = ModelServer.start();
                ModelServer away1 = ModelServer.start(); ModelServer away2 = ModelServer.start();
                RunningGateway gateway = RunningGateway.start("""
                        server:
                          locality: eu-west-1
                        backends:
                          pool:
                            type: grpc
                            protocol: model-service
                            instances:
                              - {name: home-1, url: '%s', locality: eu-west-1}
                              - {name: home-2, url: '%s', locality: eu-west-1}
                              - {name: away-1, url: '%s', locality: us-east-1}
                              - {name: away-2, url: '%s', locality: us-east-1}
                            health-check: {interval: 10ms, timeout: 1s, healthy-threshold: 1, unhealthy-threshold: 1}
                        routes:
                          - {model: half, backend: pool}
                        """.formatted(home1.url(), home2.url(), away1.url(), away2.url()))) {
            predict(gateway, 20);
            assertEquals(20, home1.inferences.get() + home2.inferences.get());

            home1.serving(false);
            gateway.awaitMetric("modelgate_backend_priority_load{backend=\"pool\",priority=\"0\"} 70", DEADLINE);
            int home2Before = home2.inferences.get();
            predict(gateway, 100);
            assertEquals(home2Before + 70, home2.inferences.get(), 2,
                    "half the home instances: 50% × 1.4 = 70% stays");
            assertEquals(30, away1.inferences.get() + away2.inferences.get(), 2);

            home2.serving(false);
            gateway.awaitMetric("modelgate_backend_priority_load{backend=\"pool\",priority=\"1\"} 100", DEADLINE);
            int awayBefore = away1.inferences.get() + away2.inferences.get();
            assertEquals(java.util.Collections.nCopies(20, 200), predict(gateway, 20));
            assertEquals(awayBefore + 20, away1.inferences.get() + away2.inferences.get());

            home1.serving(true);
            home2.serving(true);
            gateway.awaitMetric("modelgate_backend_priority_load{backend=\"pool\",priority=\"0\"} 100", DEADLINE);
            int homeBefore = home1.inferences.get() + home2.inferences.get();
            predict(gateway, 20);
            assertEquals(homeBefore + 20, home1.inferences.get() + home2.inferences.get(), "traffic is back home");
        }
    }

    @Test
    void theGatewayIsNotReadyWhileTheKServeServerIsNot() throws Exception {
        try (ModelServer only = ModelServer.start();
                RunningGateway gateway = gateway("kserve-v2", instances(only), """
                        model-name: double
                        health-check:
                          interval: 10ms
                          timeout: 1s
                          healthy-threshold: 1
                          unhealthy-threshold: 1
                        """)) {
            only.ready.set(false);
            awaitHealthy(gateway, "a", 0);
            assertEquals(503, gateway.adminGet("/readyz").statusCode());

            only.ready.set(true);
            awaitHealthy(gateway, "a", 1);
            assertEquals(200, gateway.adminGet("/readyz").statusCode());
        }
    }
}
