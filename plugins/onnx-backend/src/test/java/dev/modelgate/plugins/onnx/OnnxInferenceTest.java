package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.modelgate.kernel.testing.Await;
import dev.modelgate.plugins.onnx.DemoModel.Message;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorBuilder;
import dev.modelgate.spi.inference.TensorMetadata;
import dev.modelgate.spi.testing.CodecExchange;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The backend called directly with decoded requests: the demo Iris model, and a model with three typed inputs. */
class OnnxInferenceTest {

    private static final int MAX_BATCH = 3;
    private static final float[] SETOSA = {5.1f, 3.5f, 1.4f, 0.2f};
    private static final float[] VIRGINICA = {6.3f, 3.3f, 6.0f, 2.5f};
    private static final Exchange NO_DEADLINE = exchangeDue(Long.MAX_VALUE);
    private static final System.Logger LOGGER = System.getLogger(OnnxInferenceTest.class.getName());

    private static OnnxBackend iris;
    private static OnnxBackend multiInput;

    @BeforeAll
    static void loadModels() throws OrtException {
        iris = backend(DemoModel.bytes(), SessionRunner.daemonThreads());
        multiInput = backend(DemoModel.multiInput(),
                SessionRunner.daemonThreads());
    }

    @AfterAll
    static void close() {
        iris.close();
        multiInput.close();
    }

    @Test
    void knownIrisRowsAreLabelledSetosaAndVirginica() throws BackendException {
        InferenceResponse response = iris.infer(new InferenceRequest("demo", "1", "req-7",
                List.of(rows("features", SETOSA, VIRGINICA)), List.of(), Map.of()), NO_DEADLINE);

        assertEquals("demo", response.model());
        assertEquals("1", response.version());
        assertEquals("req-7", response.id());
        assertEquals(List.of("probabilities", "label"), names(response));
        Tensor label = response.output("label");
        assertEquals(DataType.INT64, label.type());
        assertArrayEquals(new long[] {2}, label.shape());
        assertEquals(0, label.longAt(0));
        assertEquals(2, label.longAt(1));
        Tensor probabilities = response.output("probabilities");
        assertArrayEquals(new long[] {2, 3}, probabilities.shape());
        assertEquals(1.0, probabilities.doubleAt(0) + probabilities.doubleAt(1) + probabilities.doubleAt(2), 1e-5);
    }

    @Test
    void anUnnamedInputFeedsTheModelsSoleInput() throws BackendException {
        assertEquals(List.of(2L), labels(iris.infer(request(rows("", VIRGINICA)), NO_DEADLINE)));
    }

    @Test
    void requestedOutputsAreTheOnlyOnesAnsweredInTheOrderAsked() throws BackendException {
        InferenceRequest both = new InferenceRequest("demo", null, null, List.of(rows("features", SETOSA)),
                List.of(new RequestedOutput("label"), new RequestedOutput("probabilities")), Map.of());
        InferenceRequest labelOnly = new InferenceRequest("demo", null, null, List.of(rows("features", SETOSA)),
                List.of(new RequestedOutput("label")), Map.of());

        assertEquals(List.of("label", "probabilities"), names(iris.infer(both, NO_DEADLINE)));
        assertEquals(List.of("label"), names(iris.infer(labelOnly, NO_DEADLINE)));
    }

    @Test
    void anUnknownRequestedOutputIsAnInputMismatch() {
        InferenceRequest request = new InferenceRequest("demo", null, null, List.of(rows("features", SETOSA)),
                List.of(new RequestedOutput("logits")), Map.of());

        assertRejected(CoreErrors.INPUT_MISMATCH, "the request asks for unknown output 'logits'; the model's outputs"
                + " are [probabilities, label]", () -> iris.infer(request, NO_DEADLINE));
    }

    @Test
    void aWrongInputNameIsAnInputMismatchNamingTheModelsInputs() {
        assertRejected(CoreErrors.INPUT_MISMATCH, "the request has unknown input 'x'; the model's inputs are"
                + " [features]", () -> iris.infer(request(rows("x", SETOSA)), NO_DEADLINE));
    }

    @Test
    void aWrongShapeIsAnInputMismatch() {
        Tensor threeFeatures = Tensor.ofFloats("features", new long[] {1, 3}, 5.1f, 3.5f, 1.4f);

        assertRejected(CoreErrors.INPUT_MISMATCH, "input 'features' has shape [-1, 4] (-1 takes any size), but the"
                + " request's tensor has shape [1, 3]", () -> iris.infer(request(threeFeatures), NO_DEADLINE));
    }

    @Test
    void aBoolTensorIsAnInputMismatchForAFloatInput() {
        TensorBuilder flags = Tensor.builder("features", DataType.BOOL);
        for (int i = 0; i < 4; i++) {
            flags.addBoolean(true);
        }
        Tensor tensor = flags.build(new long[] {1, 4});

        assertRejected(CoreErrors.INPUT_MISMATCH, "input 'features' takes FP32 tensors (or integer and"
                + " floating-point tensors, converted), but the request's is BOOL",
                () -> iris.infer(request(tensor), NO_DEADLINE));
    }

    @Test
    void integerAndDoubleTensorsAreConvertedForAFloatInput() throws BackendException {
        Tensor integers = build(Tensor.builder("features", DataType.INT64), new long[] {1, 4}, 5, 4, 1, 0);
        Tensor doubles = build(Tensor.builder("features", DataType.FP64), new long[] {1, 4}, 6.3, 3.3, 6.0, 2.5);

        assertEquals(List.of(0L), labels(iris.infer(request(integers), NO_DEADLINE)));
        assertEquals(List.of(2L), labels(iris.infer(request(doubles), NO_DEADLINE)));
    }

    @Test
    void aDoubleBeyondFloatRangeIsRefusedRatherThanMadeInfinite() {
        Tensor huge = build(Tensor.builder("features", DataType.FP64), new long[] {1, 4}, 1e300, 0, 0, 0);

        assertRejected(CoreErrors.INVALID_TENSOR_VALUE, "tensor 'features' feeds an FP32 input, but its element 0,"
                + " 1.0E300, is beyond FP32's range", () -> iris.infer(request(huge), NO_DEADLINE));
    }

    @Test
    void moreRowsThanMaxBatchIsAnInvalidPredictRequest() {
        Tensor fourRows = rows("features", SETOSA, SETOSA, SETOSA, SETOSA);

        assertRejected(CoreErrors.INVALID_PREDICT_REQUEST, "at most 3 rows are allowed per request, but input"
                + " 'features' has 4", () -> iris.infer(request(fourRows), NO_DEADLINE));
    }

    @Test
    void metadataDescribesTheModelsTensorsUnderTheClientsName() {
        ModelMetadata metadata = iris.metadata("demo", null);

        assertEquals(new ModelMetadata("demo", List.of(), "onnxruntime_onnx",
                List.of(new TensorMetadata("features", DataType.FP32, List.of(-1L, 4L))),
                List.of(new TensorMetadata("probabilities", DataType.FP32, List.of(-1L, 3L)),
                        new TensorMetadata("label", DataType.INT64, List.of(-1L)))), metadata);
    }

    @Test
    void namedInputsFeedAModelWithSeveralInputsOfTheirOwnTypes() throws BackendException {
        InferenceResponse response = multiInput.infer(request(
                build(Tensor.builder("ids", DataType.INT32), new long[] {2}, 7, -1),
                build(Tensor.builder("counts", DataType.INT64), new long[] {2, 2}, 1, 2, 3, 4),
                build(Tensor.builder("scale", DataType.FP64), new long[] {2, 1}, 1.5, -2)), NO_DEADLINE);

        assertEquals(List.of("doubled", "squared", "same_ids"), names(response));
        assertEquals(8, response.output("doubled").longAt(3));
        assertEquals(2.25, response.output("squared").doubleAt(0));
        assertEquals(DataType.INT32, response.output("same_ids").type());
        assertEquals(-1, response.output("same_ids").longAt(1));
    }

    @Test
    void anUnnamedInputCannotFeedAModelWithSeveralInputs() {
        Tensor unnamed = build(Tensor.builder("", DataType.INT64), new long[] {1, 2}, 1, 2);

        assertRejected(CoreErrors.INPUT_MISMATCH, "the request names no input, but the model has inputs [counts,"
                + " scale, ids]; name each input", () -> multiInput.infer(request(unnamed), NO_DEADLINE));
    }

    @Test
    void anIntegerInputTakesItsOwnTypeOnly() {
        Tensor wideIds = build(Tensor.builder("ids", DataType.INT64), new long[] {1}, 7);

        assertRejected(CoreErrors.INPUT_MISMATCH, "input 'ids' takes INT32 tensors, but the request's is INT64",
                () -> multiInput.infer(request(
                        build(Tensor.builder("counts", DataType.INT64), new long[] {1, 2}, 1, 2),
                        build(Tensor.builder("scale", DataType.FP64), new long[] {1, 1}, 1), wideIds),
                        NO_DEADLINE));
    }

    @Test
    void aMissingInputIsAnInputMismatch() {
        assertRejected(CoreErrors.INPUT_MISMATCH, "the request lacks input 'scale'; the model's inputs are [counts,"
                + " scale, ids]", () -> multiInput.infer(request(
                        build(Tensor.builder("counts", DataType.INT64), new long[] {1, 2}, 1, 2),
                        build(Tensor.builder("ids", DataType.INT32), new long[] {1}, 7)), NO_DEADLINE));
    }

    @Test
    void everyServedTypeTravelsThroughTheModelUnchanged() throws Exception {
        Message graph = new Message().string(2, "identities");
        int[] onnxTypes = {10, 3, 5, 2, 9}; // FLOAT16, INT8, INT16, UINT8, BOOL in onnx.proto
        DataType[] types = {DataType.FP16, DataType.INT8, DataType.INT16, DataType.UINT8, DataType.BOOL};
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < types.length; i++) {
            String name = types[i].name().toLowerCase(java.util.Locale.ROOT);
            graph.message(1, DemoModel.node(name, "Identity", new String[] {name}, name + "_out"))
                    .message(11, DemoModel.valueInfo(name, onnxTypes[i], "batch", 2))
                    .message(12, DemoModel.valueInfo(name + "_out", onnxTypes[i], "batch", 2));
            TensorBuilder builder = Tensor.builder(name, types[i]);
            if (types[i] == DataType.BOOL) {
                builder.addBoolean(true).addBoolean(false);
            } else {
                builder.addDouble(1).addDouble(types[i] == DataType.UINT8 ? 255 : -3);
            }
            inputs.add(builder.build(new long[] {1, 2}));
        }
        OnnxBackend identities = backend(DemoModel.model(graph), SessionRunner.daemonThreads());
        try {
            InferenceResponse response = identities.infer(request(inputs.toArray(Tensor[]::new)), NO_DEADLINE);

            for (Tensor input : inputs) {
                Tensor output = response.output(input.name() + "_out");
                assertEquals(input.type(), output.type());
                assertArrayEquals(input.shape(), output.shape());
                assertEquals(input.data(), output.data());
            }
        } finally {
            identities.close();
        }
    }

    @Test
    void aDeadlineAlreadyPastIsATimeoutWithoutARun() {
        BackendException e = assertThrows(BackendException.class,
                () -> iris.infer(request(rows("features", SETOSA)), exchangeDue(System.nanoTime())));

        assertEquals(BackendException.Kind.TIMEOUT, e.kind());
    }

    @Test
    void aRunThatOutlastsTheDeadlineIsATimeout() throws Exception {
        CountDownLatch gate = new CountDownLatch(1);
        OnnxBackend held = backend(DemoModel.bytes(), gated(gate));
        try {
            BackendException e = assertThrows(BackendException.class, () -> held.infer(
                    request(rows("features", SETOSA)), exchangeDue(System.nanoTime() + 50_000_000L)));

            assertEquals(BackendException.Kind.TIMEOUT, e.kind());
        } finally {
            gate.countDown();
            held.close();
        }
    }

    /**
     * The pool's threads wait at a gate, so every run stays in flight while more callers than carriers wait on it.
     * Were a caller's carrier held (the run made on the virtual thread, or its wait pinned), no carrier would be left
     * for the bystander virtual thread; and were the runs made on the callers' threads, they would finish before the
     * gate opened.
     */
    @Test
    void callersWaitUnmountedSoOtherVirtualThreadsKeepRunningDuringRuns() throws Exception {
        int callers = Math.max(8, Runtime.getRuntime().availableProcessors() + 1);
        CountDownLatch gate = new CountDownLatch(1);
        OnnxBackend held = backend(DemoModel.bytes(), gated(gate));
        try {
            AtomicInteger answered = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            List<List<Long>> results = new ArrayList<>();
            for (int i = 0; i < callers; i++) {
                List<Long> result = new ArrayList<>();
                results.add(result);
                threads.add(Thread.ofVirtual().start(() -> {
                    try {
                        result.addAll(labels(held.infer(request(rows("features", SETOSA, VIRGINICA)), NO_DEADLINE)));
                        answered.incrementAndGet();
                    } catch (BackendException e) {
                        throw new AssertionError(e);
                    }
                }));
            }
            awaitWaiting(threads);
            CountDownLatch bystanderRan = new CountDownLatch(1);
            Thread.ofVirtual().start(bystanderRan::countDown);

            assertTrue(bystanderRan.await(10, TimeUnit.SECONDS), "a virtual thread ran while " + callers
                    + " inferences were in flight");
            assertEquals(0, answered.get(), "no run finished before the pool's threads were let go");
            gate.countDown();
            for (Thread thread : threads) {
                assertTrue(thread.join(java.time.Duration.ofSeconds(10)));
            }
            assertEquals(callers, answered.get());
            results.forEach(result -> assertEquals(List.of(0L, 2L), result));
        } finally {
            gate.countDown();
            held.close();
        }
    }

    private static OnnxBackend backend(byte[] model, ThreadFactory threads) throws OrtException {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            return new OnnxBackend(environment, environment.createSession(model, options), MAX_BATCH, 2, threads,
                    LOGGER);
        }
    }

    /** Daemon platform threads that start serving the pool only once {@code gate} opens. */
    private static ThreadFactory gated(CountDownLatch gate) {
        ThreadFactory threads = SessionRunner.daemonThreads();
        return task -> threads.newThread(() -> {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            task.run();
        });
    }

    /** Waits until every thread is parked: blocked on its run's result. */
    private static void awaitWaiting(List<Thread> threads) {
        Await.until("the callers all waiting on their runs",
                () -> threads.stream().allMatch(thread -> thread.getState() == Thread.State.WAITING));
    }

    /** An exchange that answers {@link Exchange#deadlineNanos()}, all the backend reads of it. */
    private static Exchange exchangeDue(long deadlineNanos) {
        return CodecExchange.call("kserve-v2", "demo", null, "infer").dueAt(deadlineNanos);
    }

    private static InferenceRequest request(Tensor... inputs) {
        return new InferenceRequest("demo", null, null, List.of(inputs), List.of(), Map.of());
    }

    private static Tensor rows(String name, float[]... rows) {
        float[] values = new float[rows.length * 4];
        for (int row = 0; row < rows.length; row++) {
            System.arraycopy(rows[row], 0, values, row * 4, 4);
        }
        return Tensor.ofFloats(name, new long[] {rows.length, 4}, values);
    }

    private static Tensor build(TensorBuilder builder, long[] shape, double... values) {
        for (double value : values) {
            builder.addDouble(value);
        }
        return builder.build(shape);
    }

    private static List<String> names(InferenceResponse response) {
        return response.outputs().stream().map(Tensor::name).toList();
    }

    private static List<Long> labels(InferenceResponse response) {
        Tensor label = response.output("label");
        List<Long> labels = new ArrayList<>();
        for (int i = 0; i < label.elementCount(); i++) {
            labels.add(label.longAt(i));
        }
        return labels;
    }

    private static void assertRejected(ErrorCode code, String detail, Executable call) {
        RejectionException e = assertThrows(RejectionException.class, call);
        assertEquals(code, e.errorCode());
        assertEquals(detail, e.getMessage());
    }
}
