package dev.modelgate.plugins.batching;

import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ItemError;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Merging requests along their first dimension, and splitting the answer back. */
final class Batches {

    private Batches() {
    }

    /**
     * What requests must share to ride in one batch: the model and version, each input's name, type and dimensions
     * after the first, the outputs asked for and the parameters.
     */
    record Key(String model, String version, List<InputKey> inputs, List<RequestedOutput> outputs,
            Map<String, Object> parameters) {
    }

    record InputKey(String name, DataType type, List<Long> rowShape) {
    }

    static Key keyOf(InferenceRequest request) {
        List<InputKey> inputs = new ArrayList<>(request.inputs().size());
        for (Tensor input : request.inputs()) {
            long[] shape = input.shape();
            inputs.add(new InputKey(input.name(), input.type(),
                    Arrays.stream(shape, 1, shape.length).boxed().toList()));
        }
        return new Key(request.model(), request.version(), inputs, request.outputs(), request.parameters());
    }

    /** One request whose inputs are {@code requests}' inputs one after another along the first dimension. */
    static InferenceRequest merge(List<InferenceRequest> requests) {
        InferenceRequest first = requests.getFirst();
        List<Tensor> inputs = new ArrayList<>(first.inputs().size());
        for (int i = 0; i < first.inputs().size(); i++) {
            List<Tensor> parts = new ArrayList<>(requests.size());
            for (InferenceRequest request : requests) {
                parts.add(request.inputs().get(i));
            }
            inputs.add(Tensor.concatenate(parts));
        }
        return new InferenceRequest(first.model(), first.version(), null, inputs, first.outputs(),
                first.parameters());
    }

    /**
     * The answer of each request from the answer to their merge: every output's first dimension is cut at the
     * requests' row counts, without copying fixed-size data, and each failed item goes to the request whose row it
     * is, renumbered from that request's first row.
     *
     * @param requests the merged requests, in merge order
     * @param rows their row counts
     * @throws IllegalArgumentException naming the output when one does not have the batch's rows as its first
     *     dimension, so it cannot be split
     */
    static List<InferenceResponse> split(InferenceResponse response, List<InferenceRequest> requests, int[] rows) {
        int total = Arrays.stream(rows).sum();
        for (Tensor output : response.outputs()) {
            if (output.rank() == 0 || output.dimension(0) != total) {
                throw new IllegalArgumentException("output '" + output.name() + "' has shape "
                        + Arrays.toString(output.shape()) + ", not a first dimension of the batch's " + total
                        + " rows");
            }
        }
        List<InferenceResponse> answers = new ArrayList<>(requests.size());
        int firstRow = 0;
        for (int r = 0; r < requests.size(); r++) {
            List<Tensor> outputs = new ArrayList<>(response.outputs().size());
            for (Tensor output : response.outputs()) {
                outputs.add(output.rows(firstRow, rows[r]));
            }
            answers.add(new InferenceResponse(response.model(), response.version(), requests.get(r).id(), outputs,
                    response.parameters(), itemErrorsOf(response, firstRow, rows[r])));
            firstRow += rows[r];
        }
        return answers;
    }

    /** The failed items among rows {@code firstRow} to {@code firstRow + rowCount}, numbered from 0. */
    private static List<ItemError> itemErrorsOf(InferenceResponse response, int firstRow, int rowCount) {
        List<ItemError> mine = new ArrayList<>();
        for (ItemError item : response.itemErrors()) {
            if (item.index() >= firstRow && item.index() < firstRow + rowCount) {
                mine.add(item.at(item.index() - firstRow));
            }
        }
        return mine;
    }
}
