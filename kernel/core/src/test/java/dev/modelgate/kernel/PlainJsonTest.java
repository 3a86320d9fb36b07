package dev.modelgate.kernel;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.kernel.testing.Mutations;
import dev.modelgate.spi.Json;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link PlainJson} may only ever vouch for what Jackson accepts: checked against Jackson itself (a tree read with
 * the kernel's mapper, an oracle independent of the scan) on hand-picked bodies and on thousands of mutations of
 * them. It must also vouch for the usual bodies, or the quick path would never run.
 */
class PlainJsonTest {

    private static final List<String> SEEDS = List.of(
            "{\"instances\":[[5.1,3.5,1.4,0.2]]}",
            "{\"instances\": [ {\"x\": [1, -2.5e-3, 0], \"tag\": \"a b\"}, {\"x\": [true, false, null]} ] }\n",
            "{\"signature_name\":\"serving_default\",\"inputs\":{\"x\":[[0.0,1E+2,-0.5]]}}",
            "{\"inputs\":[1,2,3],\"extra\":{\"deep\":[[[[{}]]]],\"s\":\"\"}}",
            "\t{ \"instances\" : [ 1 ] }\r\n");

    @Test
    void vouchesForTheUsualPredictBodiesAndObjects() {
        for (String seed : SEEDS) {
            assertTrue(PlainJson.isPredictBody(bytes(seed)), seed);
            assertTrue(PlainJson.isObject(bytes(seed)), seed);
        }
        assertTrue(PlainJson.isObject(bytes("{\"predictions\":[[0.02,0.91,0.07]]}")));
    }

    @Test
    void leavesEveryFaultAndEveryUnusualSpellingToJackson() {
        List<String> refused = List.of("", " ", "[]", "{}", "{\"instances\":[]}", "{\"instances\":{}}",
                "{\"instances\":[1],\"inputs\":[1]}", "{\"instances\":[1],\"instances\":[2]}", "{\"other\":1}",
                "{\"instances\":[1]} x", "{\"instances\":[1]}{}", "{\"instances\":[01]}", "{\"instances\":[1.]}",
                "{\"instances\":[-]}", "{\"instances\":[.5]}", "{\"instances\":[1e]}", "{\"instances\":[NaN]}",
                "{\"instances\":[Infinity]}", "{\"instances\":[1,]}", "{\"instances\":[1] ,}", "{\"instances\":[1]",
                "{\"instances\":[\"\\u0041\"]}", "{\"instan\\u0063es\":[1]}", "{\"instances\":[\"é\"]}",
                "{\"instances\":[1true]}", "{\"instances\":[nul]}", "{'instances':[1]}", "{instances:[1]}",
                "{\"instances\":[1] \"inputs\":2}", "{\"instances\":[1]}\u000b", "{\"instances\":[\"a\tb\"]}");
        for (String body : refused) {
            assertFalse(PlainJson.isPredictBody(bytes(body)), body);
        }
        assertFalse(PlainJson.isObject(bytes("[1]")));
        assertFalse(PlainJson.isObject(bytes("{\"a\":NaN}")));
        assertFalse(PlainJson.isObject(bytes("{\"a\":" + "[".repeat(300) + "]".repeat(300) + "}")));
    }

    @Test
    void vouchesForNoMutationJacksonRefuses() {
        Random random = new Random(20261130);
        String alphabet = "{}[]\",:.-+eE0123456789 \t\ntrufalsn\\x/é";
        int vouched = 0;
        for (String seed : SEEDS) {
            for (int round = 0; round < 4000; round++) {
                String body = Mutations.of(seed, alphabet, random);
                byte[] bytes = bytes(body);
                if (PlainJson.isObject(bytes)) {
                    vouched++;
                    assertTrue(jacksonReadsOneObject(bytes), body);
                }
                if (PlainJson.isPredictBody(bytes)) {
                    assertTrue(jacksonFindsAPredictBody(bytes), body);
                }
            }
        }
        // The mutations must exercise the "yes" answers too, not only the refusals.
        assertTrue(vouched > 1000, "only " + vouched + " mutations were vouched for");
    }

    private static boolean jacksonReadsOneObject(byte[] bytes) {
        return tree(bytes) instanceof JsonNode node && node.isObject();
    }

    /** The rule of {@link PredictBodyCheck}, on a tree: exactly one of a non-empty 'instances' list and 'inputs'. */
    private static boolean jacksonFindsAPredictBody(byte[] bytes) {
        if (!(tree(bytes) instanceof JsonNode node) || !node.isObject()) {
            return false;
        }
        JsonNode instances = node.get("instances");
        boolean rows = instances != null;
        boolean columns = node.has("inputs");
        return rows != columns && (!rows || instances.isArray() && !instances.isEmpty());
    }

    private static JsonNode tree(byte[] bytes) {
        try {
            return Json.MAPPER.readTree(bytes);
        } catch (java.io.IOException e) {
            return null;
        }
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }
}
