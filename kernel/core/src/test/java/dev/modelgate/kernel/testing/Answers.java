package dev.modelgate.kernel.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.http.HttpResponse;

/** Assertions on the gateway's answers: every front writes an error's five-digit code as a top-level {@code code}. */
public final class Answers {

    private static final ObjectMapper JSON = new ObjectMapper();

    private Answers() {
    }

    /** The answer's body as JSON; fails the test, with the body, when it is not JSON. */
    public static JsonNode json(HttpResponse<String> response) {
        try {
            return JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AssertionError("not JSON: " + response.body(), e);
        }
    }

    /** The top-level {@code code} of the answer; fails when it has none. */
    public static int code(HttpResponse<String> response) {
        JsonNode code = json(response).get("code");
        if (code == null || !code.isInt()) {
            throw new AssertionError("no code in: " + response.body());
        }
        return code.asInt();
    }

    /** The answer has HTTP {@code status} and the gateway's error {@code code}. */
    public static void assertError(HttpResponse<String> response, int status, int code) {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals(code, code(response), response.body());
    }
}
