package dev.modelgate.plugins.batching;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.kernel.testing.TestBackend;
import dev.modelgate.kernel.testing.TestBackend.Reply;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * A KServe v2 model server over a real {@link TestBackend}: model {@code m}, one FP32 input {@code x} of any shape,
 * output {@code y = 10 x} of the same shape. Records the first dimension of every inference call it gets and the first
 * value of every row, and can hold its first call until the test releases it, so that what arrives meanwhile queues
 * in the batcher. Optionally it answers per item: a row whose first value is negative fails alone, named in the
 * answer's {@code item_errors} with status 400, while the other rows are answered.
 */
final class KServeStandIn implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    final List<Long> batchRows = new CopyOnWriteArrayList<>();
    final List<Float> rowsSeen = new CopyOnWriteArrayList<>();
    final CountDownLatch firstCallArrived = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);
    private final TestBackend server;

    /** @param failure the status to answer the call with this index (0-based), or 0 to answer it */
    KServeStandIn(boolean holdFirstCall, IntFunction<Integer> failure) throws IOException {
        this(holdFirstCall, failure, false);
    }

    /** @param failsNegativeRows whether a row whose first value is negative fails alone, in {@code item_errors} */
    KServeStandIn(boolean holdFirstCall, IntFunction<Integer> failure, boolean failsNegativeRows)
            throws IOException {
        server = TestBackend.start(request -> {
            if (request.method().equals("GET")) {
                return Reply.json(200, """
                        {"name":"m","platform":"stand-in","inputs":[{"name":"x","datatype":"FP32","shape":[-1,-1]}],
                         "outputs":[{"name":"y","datatype":"FP32","shape":[-1,-1]}]}""");
            }
            JsonNode input = JSON.readTree(request.body()).get("inputs").get(0);
            int call = batchRows.size();
            long rows = input.get("shape").get(0).asLong();
            batchRows.add(rows);
            int width = input.get("data").size() / (int) rows;
            for (int row = 0; row < rows; row++) {
                rowsSeen.add(input.get("data").get(row * width).floatValue());
            }
            if (call == 0 && holdFirstCall) {
                firstCallArrived.countDown();
                release.await(30, TimeUnit.SECONDS);
            }
            int status = failure.apply(call);
            if (status != 0) {
                return Reply.json(status, "{\"error\":\"the model failed on this batch\"}");
            }
            ObjectNode answer = answer(input);
            if (failsNegativeRows) {
                ArrayNode itemErrors = JSON.createArrayNode();
                for (int row = 0; row < rows; row++) {
                    if (input.get("data").get(row * width).floatValue() < 0) {
                        itemErrors.addObject().put("index", row).put("status", 400)
                                .put("message", "negative input");
                    }
                }
                if (!itemErrors.isEmpty()) {
                    answer.set("item_errors", itemErrors);
                }
            }
            return Reply.json(200, JSON.writeValueAsString(answer));
        });
    }

    private static ObjectNode answer(JsonNode input) {
        ObjectNode answer = JSON.createObjectNode().put("model_name", "m");
        ObjectNode output = answer.putArray("outputs").addObject().put("name", "y").put("datatype", "FP32");
        output.set("shape", input.get("shape"));
        ArrayNode data = output.putArray("data");
        for (JsonNode value : input.get("data")) {
            data.add(value.floatValue() * 10);
        }
        return answer;
    }

    String url() {
        return server.url("");
    }

    @Override
    public void close() {
        release.countDown();
        server.close();
    }
}
