package dev.modelgate.plugins.tfserving;

import static dev.modelgate.plugins.tfserving.Fixtures.JSON;
import static dev.modelgate.plugins.tfserving.Fixtures.json;
import static dev.modelgate.plugins.tfserving.Fixtures.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.TensorMetadata;
import dev.modelgate.spi.testing.CodecExchange;
import java.util.List;
import org.junit.jupiter.api.Test;

class MetadataTest {

    /** TF Serving's own test data: saved_model_half_plus_two_2_versions_metadata.json. */
    private static final String HALF_PLUS_TWO = """
            {"model_spec": {"name": "saved_model_half_plus_two_2_versions", "signature_name": "", "version": "123"},
             "metadata": {"signature_def": {"signature_def": {
               "serving_default": {
                 "inputs":  {"x": {"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1", "name": ""},
                             {"size": "1", "name": ""}], "unknown_rank": false}, "name": "x"}},
                 "outputs": {"y": {"dtype": "DT_FLOAT", "tensor_shape": {"dim": [{"size": "-1", "name": ""},
                             {"size": "1", "name": ""}], "unknown_rank": false}, "name": "y"}},
                 "method_name": "tensorflow/serving/predict", "defaults": {}}}}}}""";

    private static final ModelMetadata MODEL = new ModelMetadata("saved_model_half_plus_two_2_versions",
            List.of("123"), "tensorflow", List.of(new TensorMetadata("x", DataType.FP32, List.of(-1L, 1L))),
            List.of(new TensorMetadata("y", DataType.FP32, List.of(-1L, 1L))));

    @Test
    void metadataIsWrittenAsTfServingWritesIt() throws Exception {
        String written = text(JSON.encodeMetadata(MODEL, CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict")));
        ObjectMapper mapper = new ObjectMapper();
        assertEquals(mapper.readTree(HALF_PLUS_TWO), mapper.readTree(written));
    }

    @Test
    void theVersionAskedForIsTheOneNamedElseTheLatest() throws Exception {
        ModelMetadata versions = new ModelMetadata("m", List.of("2", "10", "3"), "x", List.of(), List.of());
        ObjectMapper mapper = new ObjectMapper();
        assertEquals("10", mapper.readTree(JSON.encodeMetadata(versions, CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict")).body())
                .path("model_spec").path("version").asText());
        assertEquals("3", mapper.readTree(JSON.encodeMetadata(versions, CodecExchange.call(TfServingCodec.DIALECT, "m", "3", "metadata"))
                .body()).path("model_spec").path("version").asText());
        ModelMetadata unversioned = new ModelMetadata("m", List.of(), "x", List.of(), List.of());
        assertEquals(false, mapper.readTree(JSON.encodeMetadata(unversioned, CodecExchange.call(TfServingCodec.DIALECT, "m", null, "predict")).body())
                .path("model_spec").has("version"));
    }

    @Test
    void everyDataTypeHasItsTfName() {
        for (DataType type : DataType.values()) {
            assertEquals(type, TfMetadata.dataType(TfMetadata.dtype(type)));
        }
        assertEquals("DT_HALF", TfMetadata.dtype(DataType.FP16));
        assertEquals("DT_STRING", TfMetadata.dtype(DataType.BYTES));
    }

    @Test
    void metadataIsReadBackFromTfServingsAnswer() throws Exception {
        ModelMetadata read = JSON.decodeMetadata(json(HALF_PLUS_TWO), "half");
        assertEquals(MODEL.withName("half"), read);
    }

    @Test
    void theOnlySignatureServesWhenThereIsNoServingDefault() throws Exception {
        String other = HALF_PLUS_TWO.replace("serving_default", "predict_it");
        assertEquals(MODEL.inputs(), JSON.decodeMetadata(json(other), "m").inputs());
    }

    @Test
    void unreadableMetadataIsAProtocolFailure() {
        for (String body : List.of("{", "[]", "{\"metadata\": {}}",
                HALF_PLUS_TWO.replaceFirst("DT_FLOAT", "DT_COMPLEX64"))) {
            BackendException e = assertThrows(BackendException.class, () -> JSON.decodeMetadata(json(body), "m"));
            assertEquals(BackendException.Kind.PROTOCOL, e.kind());
        }
    }
}
