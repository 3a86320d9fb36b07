package dev.modelgate.plugins.jwt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.kernel.testing.RunningGateway;
import java.net.http.HttpResponse;

/** Predict requests carrying a token, and the check that a refused one never reached the counting backend. */
final class BearerRequests {

    /** A one-instance predict request body. */
    static final String BODY = "{\"instances\":[[1.0]]}";

    private BearerRequests() {
    }

    /** Posts {@link #BODY} to {@code model}'s predict with {@code Authorization: <authorization>}. */
    static HttpResponse<String> predict(RunningGateway gateway, String model, String authorization) {
        return gateway.post("/v1/models/" + model + ":predict", "application/json", BODY,
                "Authorization", authorization);
    }

    /** Posts {@link #BODY} to {@code model}'s predict with {@code Authorization: Bearer <token>}. */
    static HttpResponse<String> predictWithToken(RunningGateway gateway, String model, String token) {
        return predict(gateway, model, "Bearer " + token);
    }

    /**
     * Sends {@code token} to {@code model} and checks the refusal: status, code, the {@code invalid_token} challenge
     * on a 401, no echo of the token, and no call to the backend counting under {@code counter}.
     */
    static void assertRefused(RunningGateway gateway, String counter, String model, String token, int status,
            int code) {
        int before = CountingBackendProvider.calls(counter);

        HttpResponse<String> response = predictWithToken(gateway, model, token);

        assertEquals(status, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"code\":" + code), response.body());
        if (status == 401) {
            assertEquals("Bearer error=\"invalid_token\"", response.headers().firstValue("WWW-Authenticate")
                    .orElseThrow());
        }
        if (!token.isBlank()) {
            assertFalse(response.body().contains(token), "the response must not echo the token");
        }
        assertEquals(before, CountingBackendProvider.calls(counter), "the backend must not be called");
    }
}
