package dev.modelgate.plugins.retry;

import static dev.modelgate.kernel.testing.Answers.assertError;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.modelgate.kernel.Deployment;
import dev.modelgate.kernel.fixtures.EchoBackendProvider;
import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Each bad value of the {@code retry} filter is reported once, by its exact key. */
class RetryConfigTest {

    /** A gateway whose backend {@code echo} has a {@code retry} filter configured with {@code settings}. */
    private static String gatewayWith(String settings) {
        return RunningGateway.ECHO_ROUTE.replace("    type: echo\n", "    type: echo\n    filters:\n      - {type: retry"
                + (settings.isEmpty() ? "" : ", " + settings) + "}\n");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "attempts: 0                    | backends.echo.filters[0].attempts: must be between 1 and 10, but was 0",
        "budget-percent: 150            | backends.echo.filters[0].budget-percent: must be between 0 and 100, but was 150",
        "min-retries-per-second: -1     | backends.echo.filters[0].min-retries-per-second: must be between 0 and 1000, but was -1",
        "base-backoff: 0ms              | backends.echo.filters[0].base-backoff: must be a positive duration such as 250ms, 5s, "
                + "2m or 1h, but was '0ms'",
        "base-backoff: 1s, max-backoff: 100ms "
                + "| backends.echo.filters[0].max-backoff: must not be shorter than base-backoff (1000ms), but was 100ms",
        "retry-on: [4003]               | backends.echo.filters[0].retry-on: must list five-digit gateway codes such as 40003, "
                + "but '4003' is not one",
        "retry-on: [backend-error]      | backends.echo.filters[0].retry-on: must list five-digit gateway codes such as 40003, "
                + "but 'backend-error' is not one",
        "retry-on: []                   | backends.echo.filters[0].retry-on: must list at least one code; to retry nothing, "
                + "leave the filter out",
        "retry-on: [40003, 4005]        | backends.echo.filters[0].retry-on: must list five-digit gateway codes such as 40003, "
                + "but '4005' is not one",
        "retries: 3                     | backends.echo.filters[0].retries: unknown key; known keys here: attempts, "
                + "base-backoff, budget-percent, max-backoff, min-retries-per-second, retry-on, type",
    })
    void reportsABadSettingByKey(String settings, String problem) {
        List<String> problems = assertThrows(Deployment.InvalidConfigException.class,
                () -> RunningGateway.start(gatewayWith(settings)).close()).problems();

        assertEquals(List.of(problem), problems);
    }

    /**
     * Every setting shows in what the filter does: {@code attempts} calls per request for a code in {@code retry-on},
     * one for a code not in it, and retries stop once 10 (a second's worth, {@code min-retries-per-second}, over the
     * 10s window) plus {@code budget-percent} of the requests are spent. The window is 10 s, far longer than the test.
     */
    @Test
    void everySettingGivenTakesEffect() throws Exception {
        String retry = "    filters:\n      - {type: retry, attempts: 3, budget-percent: 10, min-retries-per-second: 1, "
                + "base-backoff: 1ms, max-backoff: 2ms, retry-on: [40004]}\n";
        try (RunningGateway gateway = RunningGateway.start("""
                backends:
                  timing-out:
                    type: echo
                    fail: timeout
                %1$s
                  unavailable:
                    type: echo
                    fail: unavailable
                %1$s
                routes:
                  - model: timing-out
                    backend: timing-out
                    idempotent: true
                  - model: unavailable
                    backend: unavailable
                    idempotent: true
                """.formatted(retry).replace("\n\n", "\n"))) {
            int before = EchoBackendProvider.calls();
            assertError(predict(gateway, "unavailable"), 503, 40003);
            assertEquals(1, EchoBackendProvider.calls() - before, "40003 is not in retry-on");

            for (int request = 1; request <= 5; request++) {
                before = EchoBackendProvider.calls();
                assertError(predict(gateway, "timing-out"), 504, 40004);
                assertEquals(3, EchoBackendProvider.calls() - before, "attempts of request " + request);
            }
            before = EchoBackendProvider.calls();
            assertError(predict(gateway, "timing-out"), 504, 40004);
            assertEquals(1, EchoBackendProvider.calls() - before, "the budget of 10 + 10% of 6 retries is spent");

            gateway.assertMetric("modelgate_retries_total{backend=\"timing-out\"} 10");
            gateway.assertMetric("modelgate_retry_budget_exhausted_total{backend=\"timing-out\"} 1");
            gateway.assertMetric("modelgate_retries_total{backend=\"unavailable\"} 0");
        }
    }

    private static HttpResponse<String> predict(RunningGateway gateway, String model) {
        return gateway.post("/v1/models/" + model + ":predict", "application/json", "{\"instances\":[1]}");
    }

    @Test
    void startsWithNoSettingGiven() throws Exception {
        try (RunningGateway gateway = RunningGateway.start(gatewayWith(""))) {
            assertEquals(200, gateway.get("/v1/models/m").statusCode());
        }
    }
}
