package dev.modelgate.plugins.ratelimit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.RunningGateway;
import org.junit.jupiter.api.Test;

/** A reload keeps a rate limiter's buckets while its settings stay, and starts new ones when they change. */
class RateLimitReloadTest {

    /** One request an hour after a burst of {@code burst}, and a route {@code other} beside the echo route. */
    private static String config(int burst, String otherModel) {
        return """
                middlewares:
                  - type: rate-limit
                    limits:
                      - rate: 1
                        period: 1h
                        burst: %d
                backends:
                  echo:
                    type: echo
                routes:
                  - model: m
                    backend: echo
                  - model: %s
                    backend: echo
                """.formatted(burst, otherModel);
    }

    private static int status(RunningGateway gateway) {
        return gateway.post("/v1/models/m:predict", "application/json", "{\"instances\":[[1]]}").statusCode();
    }

    @Test
    void aSpentBucketStaysSpentAcrossAReloadThatLeavesTheLimiterAlone() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(config(2, "other"))) {
            assertEquals(200, status(gateway));
            assertEquals(200, status(gateway));
            assertEquals(429, status(gateway), "the burst is spent");

            assertTrue(gateway.reload(config(2, "renamed")).applied());
            assertEquals(429, status(gateway), "the bucket was carried over");

            assertTrue(gateway.reload(config(3, "renamed")).applied());
            assertEquals(200, status(gateway), "changed settings start a new bucket");
        }
    }
}
