package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.modelgate.spi.CoreErrors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The shipped demo model, served by the backend behind a real gateway: real numbers from ONNX Runtime, over HTTP, in
 * the gateway's envelope.
 */
class OnnxBackendTest {

    private static final double[] SETOSA = {5.1, 3.5, 1.4, 0.2};
    private static final double[] VERSICOLOR = {5.9, 2.8, 4.3, 1.3};
    private static final double[] VIRGINICA = {6.3, 3.3, 6.0, 2.5};
    private static final double TOLERANCE = 1e-5;

    private static OnnxGateway gateway;

    @BeforeAll
    static void serveDemoModel() throws Exception {
        gateway = OnnxGateway.start(OnnxGateway.model(OnnxGateway.DEMO_MODEL), "max-batch: 3");
    }

    @AfterAll
    static void stop() throws Exception {
        gateway.close();
    }

    @Test
    void classifiesTheThreeIrisExamplesAsSetosaVersicolorAndVirginica() {
        JsonNode predictions = gateway.predict("{\"instances\": [" + row(SETOSA) + "," + row(VERSICOLOR) + ","
                + row(VIRGINICA) + "]}").get("predictions");

        assertEquals(3, predictions.size());
        for (int label = 0; label < 3; label++) {
            assertEquals(label, predictions.get(label).get(DemoModel.LABEL).asInt(), DemoModel.CLASSES[label]);
        }
    }

    @Test
    void probabilitiesAreTheSoftmaxOfTheDocumentedWeights() {
        double[][] examples = {SETOSA, VERSICOLOR, VIRGINICA};
        for (double[] features : examples) {
            JsonNode prediction = gateway.predict("{\"instances\": [" + row(features) + "]}").get("predictions").get(0);

            assertClose(softmaxOfDocumentedWeights(features), prediction.get(DemoModel.PROBABILITIES));
        }
    }

    @Test
    void columnarInputsAreAnsweredWithColumnarOutputsKeyedByName() {
        JsonNode outputs = gateway.predict("{\"inputs\": [" + row(SETOSA) + "," + row(VIRGINICA) + "]}").get("outputs");

        assertEquals("[0,2]", outputs.get(DemoModel.LABEL).toString());
        assertClose(softmaxOfDocumentedWeights(SETOSA), outputs.get(DemoModel.PROBABILITIES).get(0));
        assertClose(softmaxOfDocumentedWeights(VIRGINICA), outputs.get(DemoModel.PROBABILITIES).get(1));
    }

    @Test
    void instancesAndInputsMayNameTheirInput() {
        JsonNode rows = gateway.predict("{\"instances\": [{\"features\": " + row(VERSICOLOR) + "}]}");
        JsonNode columns = gateway.predict("{\"inputs\": {\"features\": [" + row(VERSICOLOR) + "]}}");

        assertEquals(1, rows.get("predictions").get(0).get(DemoModel.LABEL).asInt());
        assertEquals("[1]", columns.get("outputs").get(DemoModel.LABEL).toString());
    }

    @Test
    void instancesOfDifferentWidthsAreAShapeMismatchNamingTheInstance() {
        gateway.assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, "{\"instances\": [[5.1, 3.5, 1.4, 0.2], [5.9, 2.8, 4.3]]}",
                "instance 1 gives 'features' the shape [3], but instance 0 gave it [4]; every instance must give"
                        + " each the same shape");
    }

    @Test
    void raggedColumnarInputsAreAShapeMismatch() {
        gateway.assertRejected(CoreErrors.TENSOR_SHAPE_MISMATCH, "{\"inputs\": [[5.1, 3.5, 1.4, 0.2], [5.9, 2.8, 4.3]]}",
                "tensor 'features' is ragged: its nested lists must have the same length at each depth and end at"
                        + " the same depth");
    }

    @Test
    void columnarInputsOfTheWrongRankAreAnInputMismatch() {
        gateway.assertInputMismatch("{\"inputs\": [5.1, 3.5, 1.4, 0.2]}",
                "input 'features' has shape [-1, 4] (-1 takes any size), but the request's tensor has shape [4]");
    }

    @Test
    void aValueThatIsNotANumberDoesNotFitAFloatTensor() {
        gateway.assertRejected(CoreErrors.INVALID_TENSOR_VALUE,
                "{\"instances\": [[5.1, 3.5, 1.4, 0.2], [5.9, \"wide\", 4.3, 1.3]]}",
                "tensor 'features' is FP32 and cannot hold a string");
    }

    @Test
    void unknownAndMissingInputNamesAreAnInputMismatch() {
        gateway.assertInputMismatch("{\"instances\": [{\"features\": [1, 2, 3, 4], \"colour\": 1}]}",
                "instance 0 names [features, colour], but the model's inputs are [features]");
        gateway.assertInputMismatch("{\"inputs\": {\"petals\": [[1, 2, 3, 4]]}}",
                "'inputs' names [petals], but the model's inputs are [features]");
    }

    @Test
    void instancesMustBeAllNamedOrAllPlain() {
        gateway.assertRejected(CoreErrors.INVALID_PREDICT_REQUEST,
                "{\"instances\": [[1, 2, 3, 4], {\"features\": [1, 2, 3, 4]}]}",
                "'instances' mixes objects and plain values or lists (at instance 1); they must all be one or the"
                        + " other");
    }

    @Test
    void moreRowsThanMaxBatchAreAnInvalidPredictRequest() {
        String fourRows = "[" + row(SETOSA) + "," + row(SETOSA) + "," + row(SETOSA) + "," + row(SETOSA) + "]";

        gateway.assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, "{\"instances\": " + fourRows + "}",
                "at most 3 rows are allowed per request, but input 'features' has 4");
        gateway.assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, "{\"inputs\": " + fourRows + "}",
                "at most 3 rows are allowed per request, but input 'features' has 4");
    }

    @Test
    void emptyInstancesAreAnInvalidPredictRequest() {
        gateway.assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, "{\"instances\": []}",
                "'instances' must be a non-empty list");
    }

    @Test
    void concurrentPredictionsEachGetTheirOwnAnswer() throws Exception {
        double[][] examples = {SETOSA, VERSICOLOR, VIRGINICA};
        List<Future<Integer>> labels = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int request = 0; request < 300; request++) {
                double[] features = examples[request % examples.length];
                labels.add(executor.submit(() -> gateway.predict("{\"instances\": [" + row(features) + "]}")
                        .get("predictions").get(0).get(DemoModel.LABEL).asInt()));
            }
        }
        for (int request = 0; request < labels.size(); request++) {
            assertEquals(request % examples.length, labels.get(request).get());
        }
    }

    @Test
    void metadataDescribesTheModelsInputsAndOutputs() {
        assertEquals("{\"platform\":\"onnxruntime_onnx\",\"versions\":[],"
                        + "\"inputs\":[{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[-1,4]}],"
                        + "\"outputs\":[{\"name\":\"probabilities\",\"datatype\":\"FP32\",\"shape\":[-1,3]},"
                        + "{\"name\":\"label\",\"datatype\":\"INT64\",\"shape\":[-1]}]}",
                gateway.metadata().toString());
    }

    private static String row(double[] features) {
        return Arrays.toString(features);
    }

    private static void assertClose(double[] expected, JsonNode actual) {
        assertEquals(expected.length, actual.size(), actual::toString);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual.get(i).asDouble(), TOLERANCE, actual::toString);
        }
    }

    /** What the model should compute, from the weights DemoModel documents. */
    private static double[] softmaxOfDocumentedWeights(double[] features) {
        int classes = DemoModel.INTERCEPTS.length;
        double[] exponentials = new double[classes];
        double sum = 0;
        for (int label = 0; label < classes; label++) {
            double logit = DemoModel.INTERCEPTS[label];
            for (int feature = 0; feature < features.length; feature++) {
                logit += DemoModel.COEFFICIENTS[label][feature] * features[feature];
            }
            exponentials[label] = Math.exp(logit);
            sum += exponentials[label];
        }
        for (int label = 0; label < classes; label++) {
            exponentials[label] /= sum;
        }
        return exponentials;
    }
}
