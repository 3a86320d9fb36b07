package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.modelgate.spi.Operation;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link ApiPath#parse} takes paths apart by hand: judged against the grammar written as a regular expression (an
 * independent oracle) on the paths clients send and on thousands of random ones built from the grammar's pieces.
 */
class ApiPathTest {

    private static final Pattern GRAMMAR = Pattern.compile("^(?:/(v[0-9]+))?/models(?:/([^/:]+)(:predict)?)?/?$");

    private static ApiPath oracle(String path) {
        Matcher matcher = GRAMMAR.matcher(path);
        if (!matcher.matches()) {
            return null;
        }
        String model = matcher.group(2);
        Operation operation = model == null ? Operation.LIST_MODELS
                : matcher.group(3) == null ? Operation.GET_MODEL : Operation.PREDICT;
        return new ApiPath(operation, model, matcher.group(1));
    }

    @Test
    void takesApartWhatTheGrammarDoes() {
        List<String> paths = new ArrayList<>(List.of("/models", "/models/", "/v1/models", "/v2/models/iris",
                "/v10/models/iris:predict", "/models/iris:predict/", "/v/models", "/v1models", "/models//",
                "/models/:predict", "/models/m:foo", "/models/a/b", "/modelsx", "/v1/v2/models", "/x/models", "",
                "/", "/models/m:predict:predict", "/models/m::predict", "/models/m:predic", "/V1/models"));
        String[] pieces = {"/", "v", "1", "0", "models", "/models", ":predict", ":", "m", "iris", "é", "//", "x"};
        Random random = new Random(3);
        for (int i = 0; i < 20_000; i++) {
            StringBuilder path = new StringBuilder();
            for (int n = 1 + random.nextInt(6); n > 0; n--) {
                path.append(pieces[random.nextInt(pieces.length)]);
            }
            paths.add(path.toString());
        }
        int named = 0;
        for (String path : paths) {
            ApiPath expected = oracle(path);
            assertEquals(expected, ApiPath.parse(path), path);
            named += expected == null ? 0 : 1;
        }
        assertTrue(named > 200, "the random paths must reach the grammar's names: " + named);
    }
}
