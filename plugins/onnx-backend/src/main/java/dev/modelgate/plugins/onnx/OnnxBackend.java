package dev.modelgate.plugins.onnx;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceBackend;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ItemError;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import dev.modelgate.spi.inference.TensorMetadata;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadFactory;

/**
 * Serves one ONNX model in process, tensors in and tensors out: whatever protocol the client speaks, its codec has
 * decoded the request before it gets here. Inputs are matched to the model's by name (see {@link InputBinder}); the
 * outputs are every output in the model's order, or those the request asks for, in its order.
 *
 * <p>Thread-safe: called concurrently from many virtual threads, each blocked (unmounted) while its run proceeds on
 * the backend's own platform threads (see {@link SessionRunner}). Owns the session and those threads and closes them
 * in {@link #close()}.
 */
final class OnnxBackend implements InferenceBackend {

    private static final String PLATFORM = "onnxruntime_onnx";

    private final List<TensorSpec> outputs;
    private final List<String> outputNames;
    private final List<TensorMetadata> inputsMetadata;
    private final List<TensorMetadata> outputsMetadata;
    private final InputBinder binder;
    private final SessionRunner runner;

    /**
     * Takes over {@code session}, closing it in {@link #close()} (the caller closes it when this throws).
     *
     * @param maxBatch the most rows (first dimension) one input may carry
     * @param runThreads how many runs may proceed at once, on threads from {@code threadFactory}
     * @throws IllegalArgumentException when an input or output is not a tensor of a type the backend serves
     * @throws OrtException when ONNX Runtime cannot describe the model's inputs and outputs
     */
    OnnxBackend(OrtEnvironment environment, OrtSession session, int maxBatch, int runThreads,
            ThreadFactory threadFactory, System.Logger logger) throws OrtException {
        List<TensorSpec> inputs = session.getInputInfo().values().stream().map(TensorSpec::of).toList();
        this.outputs = session.getOutputInfo().values().stream().map(TensorSpec::of).toList();
        this.outputNames = outputs.stream().map(TensorSpec::name).toList();
        this.inputsMetadata = inputs.stream().map(TensorSpec::toMetadata).toList();
        this.outputsMetadata = outputs.stream().map(TensorSpec::toMetadata).toList();
        this.binder = new InputBinder(inputs, maxBatch);
        this.runner = new SessionRunner(environment, session, runThreads, threadFactory, logger);
    }

    /**
     * Runs the model, blocking the calling thread until it answers or {@link Exchange#deadlineNanos()} passes.
     *
     * @throws RejectionException with {@link CoreErrors#INPUT_MISMATCH} when the inputs or requested outputs do not
     *     match the model's, {@link CoreErrors#INVALID_PREDICT_REQUEST} past {@code max-batch},
     *     {@link CoreErrors#INVALID_TENSOR_VALUE} for a value the input's type cannot hold,
     *     {@link CoreErrors#BACKEND_ERROR} when the model fails to run (for a run of several items, only when every
     *     item fails alone: else the answer names the items that did, see {@link #itemByItem})
     * @throws BackendException of kind {@link BackendException.Kind#TIMEOUT} at the deadline (the run is abandoned)
     */
    @Override
    public InferenceResponse infer(InferenceRequest request, Exchange exchange) throws BackendException {
        List<TensorSpec> selected = selectOutputs(request.outputs());
        List<TensorValue> inputs = binder.bind(request.inputs());
        try {
            List<Tensor> results = runner.run(inputs, selected, exchange.deadlineNanos());
            return new InferenceResponse(request.model(), request.version(), request.id(), results, Map.of());
        } catch (RejectionException whole) {
            if (request.rows() < 2) {
                throw whole;
            }
            return itemByItem(request, selected, exchange.deadlineNanos(), whole);
        }
    }

    /**
     * A run of several items that failed, run again one item at a time, so that the items that fail alone are told
     * apart from the others ({@link ItemError}s) instead of failing them all: ONNX Runtime fails a whole run for one
     * bad row (an index out of a table's range, say). A failed item's output rows are zeros. When every item fails
     * alone, or the items' outputs cannot be put together again (their shapes differ), the run fails as {@code whole}
     * did.
     */
    private InferenceResponse itemByItem(InferenceRequest request, List<TensorSpec> selected, long deadlineNanos,
            RejectionException whole) throws BackendException {
        int rows = request.rows();
        List<List<Tensor>> answered = new ArrayList<>(rows);
        List<ItemError> failed = new ArrayList<>();
        List<Tensor> template = null;
        for (int row = 0; row < rows; row++) {
            List<Tensor> item = new ArrayList<>(request.inputs().size());
            for (Tensor input : request.inputs()) {
                item.add(input.rows(row, 1));
            }
            try {
                List<Tensor> results = runner.run(binder.bind(item), selected, deadlineNanos);
                answered.add(results);
                template = template == null ? results : template;
            } catch (RejectionException e) {
                answered.add(null);
                failed.add(new ItemError(row, e.errorCode(), e.getMessage()));
            }
        }
        if (template == null) {
            throw whole;
        }
        List<Tensor> outputs = new ArrayList<>(selected.size());
        for (int output = 0; output < selected.size(); output++) {
            List<Tensor> parts = new ArrayList<>(rows);
            for (List<Tensor> item : answered) {
                parts.add(item != null ? item.get(output) : zerosLike(template.get(output)));
            }
            try {
                outputs.add(Tensor.concatenate(parts));
            } catch (IllegalArgumentException e) {
                throw whole;
            }
        }
        return new InferenceResponse(request.model(), request.version(), request.id(), outputs, Map.of(), failed);
    }

    private static Tensor zerosLike(Tensor tensor) {
        if (tensor.type() == DataType.BYTES) {
            return Tensor.ofBytes(tensor.name(), tensor.shape(), Collections.nCopies(tensor.elementCount(),
                    new byte[0]));
        }
        return Tensor.of(tensor.name(), tensor.type(), tensor.shape(),
                ByteBuffer.allocate(Math.toIntExact(tensor.byteSize())));
    }

    /** The outputs asked for, in the order asked; every output, in the model's order, when none is named. */
    private List<TensorSpec> selectOutputs(List<RequestedOutput> requested) {
        if (requested.isEmpty()) {
            return outputs;
        }
        List<TensorSpec> selected = new ArrayList<>(requested.size());
        for (RequestedOutput output : requested) {
            int index = outputNames.indexOf(output.name());
            if (index < 0) {
                throw new RejectionException(CoreErrors.INPUT_MISMATCH, "the request asks for unknown output '"
                        + output.name() + "'; the model's outputs are " + outputNames);
            }
            TensorSpec spec = outputs.get(index);
            if (selected.contains(spec)) {
                throw new RejectionException(CoreErrors.INPUT_MISMATCH, "the request asks for output '"
                        + output.name() + "' twice");
            }
            selected.add(spec);
        }
        return selected;
    }

    /** The model's inputs and outputs under {@code model}, the name clients use; the backend serves one version. */
    @Override
    public ModelMetadata metadata(String model, Exchange exchange) {
        return new ModelMetadata(model, List.of(), PLATFORM, inputsMetadata, outputsMetadata);
    }

    /** Waits for runs abandoned at their deadline to stop, then closes the session: see {@link SessionRunner}. */
    @Override
    public void close() {
        runner.close();
    }
}
