package dev.modelgate.plugins.tfserving;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.TensorMetadata;
import java.io.IOException;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * TF Serving's model metadata answer ({@code GET /v1/models/{m}/metadata}), as its server builds it: the model spec
 * with the version as a string, and the signature map under the doubled {@code signature_def} key, with the model's
 * inputs and outputs as the {@code serving_default} signature. Stateless.
 */
final class TfMetadata {

    static final String PLATFORM = "tensorflow";
    private static final String SERVING_DEFAULT = "serving_default";
    private static final String PREDICT_METHOD = "tensorflow/serving/predict";
    private static final Map<DataType, String> DTYPES = new EnumMap<>(Map.ofEntries(
            Map.entry(DataType.BOOL, "DT_BOOL"), Map.entry(DataType.UINT8, "DT_UINT8"),
            Map.entry(DataType.UINT16, "DT_UINT16"), Map.entry(DataType.UINT32, "DT_UINT32"),
            Map.entry(DataType.UINT64, "DT_UINT64"), Map.entry(DataType.INT8, "DT_INT8"),
            Map.entry(DataType.INT16, "DT_INT16"), Map.entry(DataType.INT32, "DT_INT32"),
            Map.entry(DataType.INT64, "DT_INT64"), Map.entry(DataType.FP16, "DT_HALF"),
            Map.entry(DataType.FP32, "DT_FLOAT"), Map.entry(DataType.FP64, "DT_DOUBLE"),
            Map.entry(DataType.BYTES, "DT_STRING")));

    private TfMetadata() {
    }

    /** TF Serving's name for {@code type}: {@code DT_FLOAT}. */
    static String dtype(DataType type) {
        return DTYPES.get(type);
    }

    /** The data type TF Serving calls {@code dtype}, or {@code null} for one without a counterpart. */
    static DataType dataType(String dtype) {
        for (Map.Entry<DataType, String> entry : DTYPES.entrySet()) {
            if (entry.getValue().equals(dtype)) {
                return entry.getKey();
            }
        }
        return null;
    }

    /**
     * Writes the metadata answer.
     *
     * @param version the version the answer is about, or {@code null} to leave it out
     */
    static void write(JsonGenerator generator, ModelMetadata metadata, String version) throws IOException {
        generator.writeStartObject();
        generator.writeObjectFieldStart("model_spec");
        generator.writeStringField("name", metadata.name());
        generator.writeStringField("signature_name", "");
        if (version != null) {
            generator.writeStringField("version", version);
        }
        generator.writeEndObject();
        generator.writeObjectFieldStart("metadata");
        generator.writeObjectFieldStart("signature_def");
        generator.writeObjectFieldStart("signature_def");
        generator.writeObjectFieldStart(SERVING_DEFAULT);
        writeTensors(generator, "inputs", metadata.inputs());
        writeTensors(generator, "outputs", metadata.outputs());
        generator.writeStringField("method_name", PREDICT_METHOD);
        generator.writeObjectFieldStart("defaults");
        generator.writeEndObject();
        generator.writeEndObject();
        generator.writeEndObject();
        generator.writeEndObject();
        generator.writeEndObject();
        generator.writeEndObject();
    }

    /**
     * The version a metadata answer names: the one asked for, else the latest (the highest number) the backend
     * serves, as TF Serving answers with its latest version; {@code null} when neither is known.
     */
    static String version(ModelMetadata metadata, String requested) {
        if (requested != null) {
            return requested;
        }
        String latest = null;
        for (String version : metadata.versions()) {
            if (latest == null || isNewer(version, latest)) {
                latest = version;
            }
        }
        return latest;
    }

    /**
     * The metadata in a TF Serving metadata answer: the {@code serving_default} signature, else the only one.
     *
     * @throws IllegalArgumentException when the answer lacks what metadata needs or names an unknown dtype
     */
    static ModelMetadata read(JsonNode root, String model) {
        JsonNode signatures = root.path("metadata").path("signature_def").path("signature_def");
        JsonNode signature = signatures.get(SERVING_DEFAULT);
        if (signature == null && signatures.size() == 1) {
            signature = signatures.elements().next();
        }
        if (signature == null || !signature.isObject()) {
            throw new IllegalArgumentException("the metadata has no '" + SERVING_DEFAULT + "' signature");
        }
        JsonNode version = root.path("model_spec").path("version");
        List<String> versions = version.isValueNode() ? List.of(version.asText()) : List.of();
        return new ModelMetadata(model, versions, PLATFORM, readTensors(signature.path("inputs")),
                readTensors(signature.path("outputs")));
    }

    private static void writeTensors(JsonGenerator generator, String key, List<TensorMetadata> tensors)
            throws IOException {
        generator.writeObjectFieldStart(key);
        for (TensorMetadata tensor : tensors) {
            generator.writeObjectFieldStart(tensor.name());
            generator.writeStringField("dtype", dtype(tensor.type()));
            generator.writeObjectFieldStart("tensor_shape");
            generator.writeArrayFieldStart("dim");
            for (long size : tensor.shape()) {
                generator.writeStartObject();
                // int64 fields print as strings in proto3 JSON
                generator.writeStringField("size", Long.toString(size));
                generator.writeStringField("name", "");
                generator.writeEndObject();
            }
            generator.writeEndArray();
            generator.writeBooleanField("unknown_rank", false);
            generator.writeEndObject();
            generator.writeStringField("name", tensor.name());
            generator.writeEndObject();
        }
        generator.writeEndObject();
    }

    /** The tensors of a signature's inputs or outputs; an unknown rank reads as an empty shape. */
    private static List<TensorMetadata> readTensors(JsonNode tensors) {
        List<TensorMetadata> result = new ArrayList<>();
        for (Map.Entry<String, JsonNode> entry : tensors.properties()) {
            JsonNode tensor = entry.getValue();
            String dtype = tensor.path("dtype").asText();
            DataType type = dataType(dtype);
            if (type == null) {
                throw new IllegalArgumentException("tensor '" + entry.getKey() + "' has the dtype '" + dtype
                        + "', which has no counterpart here");
            }
            List<Long> shape = new ArrayList<>();
            for (JsonNode dim : tensor.path("tensor_shape").path("dim")) {
                // proto3 JSON prints int64 as a string (a number is just as clear) and leaves a zero out
                JsonNode size = dim.get("size");
                shape.add(size == null ? 0 : Long.parseLong(size.asText()));
            }
            result.add(new TensorMetadata(entry.getKey(), type, shape));
        }
        return result;
    }

    private static boolean isNewer(String version, String than) {
        try {
            return Long.parseLong(version) > Long.parseLong(than);
        } catch (NumberFormatException e) {
            // Versions that are not numbers have no order; the first one stands.
            return false;
        }
    }
}
