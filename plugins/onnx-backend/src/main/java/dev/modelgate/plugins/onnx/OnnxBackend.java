package dev.modelgate.plugins.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Response;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Serves one ONNX model in process with the TensorFlow Serving REST predict semantics: {@code instances} in,
 * {@code predictions} out; {@code inputs} in, {@code outputs} out. {@code signature_name} is ignored, as an ONNX model
 * has one signature.
 *
 * <p>Thread-safe: {@link OrtSession#run} may be called concurrently, and everything else is immutable. Owns the
 * session and closes it in {@link #close()}.
 */
final class OnnxBackend implements Backend {

    private static final String JSON_CONTENT_TYPE = "application/json";
    private static final String ORT_MESSAGE_PREFIX = "message: ";

    private final OrtEnvironment environment;
    private final OrtSession session;
    private final List<TensorSpec> outputs;
    private final PredictRequestReader reader;
    private final ObjectNode metadata;
    private final System.Logger logger;

    /**
     * @throws IllegalArgumentException when an input or output is not a tensor of a type the backend serves
     * @throws OrtException when ONNX Runtime cannot describe the model's inputs and outputs
     */
    OnnxBackend(OrtEnvironment environment, OrtSession session, int maxBatch, System.Logger logger)
            throws OrtException {
        this.environment = environment;
        this.session = session;
        List<TensorSpec> inputs = session.getInputInfo().values().stream().map(TensorSpec::of).toList();
        this.outputs = session.getOutputInfo().values().stream().map(TensorSpec::of).toList();
        this.reader = new PredictRequestReader(inputs, maxBatch);
        this.metadata = JsonNodeFactory.instance.objectNode().put("platform", "onnxruntime");
        ArrayNode inputsMetadata = metadata.putArray("inputs");
        inputs.forEach(input -> inputsMetadata.add(input.toMetadata()));
        ArrayNode outputsMetadata = metadata.putArray("outputs");
        outputs.forEach(output -> outputsMetadata.add(output.toMetadata()));
        this.logger = logger;
    }

    @Override
    public Response predict(Exchange exchange) {
        JsonNode request = exchange.json();
        boolean rowFormat = request.has("instances");
        List<TensorValue> inputs;
        try {
            inputs = rowFormat
                    ? reader.readInstances(request.get("instances"))
                    : reader.readInputs(request.get("inputs"));
        } catch (InvalidInputException e) {
            return exchange.error(e.errorCode(), e.getMessage());
        }
        List<TensorValue> results;
        try {
            results = run(inputs);
        } catch (OrtException e) {
            if (e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT) {
                return exchange.error(CoreErrors.INPUT_MISMATCH, runtimeDetail(e));
            }
            logger.log(System.Logger.Level.WARNING, "model run failed: " + e.getMessage());
            return exchange.error(CoreErrors.BACKEND_ERROR, "the model failed to run");
        }
        if (rowFormat && !shareBatchSize(results)) {
            return exchange.error(CoreErrors.BACKEND_ERROR, "the model's outputs " + outputNames()
                    + " do not share a first dimension, so they cannot be split into predictions;"
                    + " send the request in columnar form, as 'inputs'");
        }
        byte[] body = rowFormat ? PredictResponseWriter.predictions(results) : PredictResponseWriter.outputs(results);
        return Response.of(200, JSON_CONTENT_TYPE, body);
    }

    private List<TensorValue> run(List<TensorValue> inputs) throws OrtException {
        Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
        try {
            for (TensorValue input : inputs) {
                tensors.put(input.name(), OnnxTensor.createTensor(
                        environment, input.data(), input.shape(), input.type().javaType()));
            }
            try (OrtSession.Result result = session.run(tensors)) {
                List<TensorValue> values = new ArrayList<>(outputs.size());
                for (TensorSpec output : outputs) {
                    OnnxTensor tensor = (OnnxTensor) result.get(output.name()).orElseThrow();
                    values.add(new TensorValue(
                            output.name(), output.type(), tensor.getInfo().getShape(),
                            tensor.getByteBuffer().order(ByteOrder.nativeOrder())));
                }
                return values;
            }
        } finally {
            OnnxValue.close(tensors);
        }
    }

    private static boolean shareBatchSize(List<TensorValue> results) {
        long batchSize = results.getFirst().batchSize();
        return batchSize >= 0 && results.stream().allMatch(result -> result.batchSize() == batchSize);
    }

    private List<String> outputNames() {
        return outputs.stream().map(TensorSpec::name).toList();
    }

    /** ONNX Runtime's own explanation, without its "Error code - ORT_... -" preamble. */
    private static String runtimeDetail(OrtException e) {
        String message = String.valueOf(e.getMessage());
        int start = message.indexOf(ORT_MESSAGE_PREFIX);
        return (start < 0 ? message : message.substring(start + ORT_MESSAGE_PREFIX.length())).strip();
    }

    @Override
    public JsonNode metadata() {
        return metadata.deepCopy(); // callers may change what they get; the backend's copy stays as built
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException e) {
            logger.log(System.Logger.Level.WARNING, "closing the model session failed: " + e.getMessage());
        }
    }
}
