package dev.modelgate.plugins.batching;

import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.InferenceRequest;
import dev.modelgate.spi.inference.InferenceResponse;
import dev.modelgate.spi.inference.ItemError;
import dev.modelgate.spi.inference.RequestedOutput;
import dev.modelgate.spi.inference.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
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

    /**
     * The rows {@code request} carries: the first dimension its inputs share, or {@code -1} when it has no input, an
     * input of rank 0, or inputs that disagree on it (such a request goes alone).
     */
    static int rows(InferenceRequest request) {
        long rows = -1;
        for (Tensor input : request.inputs()) {
            if (input.rank() == 0 || rows >= 0 && input.dimension(0) != rows) {
                return -1;
            }
            rows = input.dimension(0);
        }
        return rows > Integer.MAX_VALUE ? -1 : (int) rows;
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
            inputs.add(concatenate(parts));
        }
        return new InferenceRequest(first.model(), first.version(), null, inputs, first.outputs(),
                first.parameters());
    }

    private static Tensor concatenate(List<Tensor> parts) {
        Tensor first = parts.getFirst();
        long[] shape = first.shape();
        long rows = 0;
        for (Tensor part : parts) {
            rows += part.dimension(0);
        }
        shape[0] = rows;
        if (first.type() == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>();
            for (Tensor part : parts) {
                for (int i = 0; i < part.elementCount(); i++) {
                    elements.add(element(part, i));
                }
            }
            return Tensor.ofBytes(first.name(), shape, elements);
        }
        long bytes = 0;
        for (Tensor part : parts) {
            bytes += part.byteSize();
        }
        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(bytes)).order(ByteOrder.LITTLE_ENDIAN);
        for (Tensor part : parts) {
            data.put(part.data());
        }
        return Tensor.of(first.name(), first.type(), shape, data.flip());
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
                outputs.add(slice(output, firstRow, rows[r], total));
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

    private static Tensor slice(Tensor output, int firstRow, int rowCount, int totalRows) {
        long[] shape = output.shape();
        shape[0] = rowCount;
        int perRow = output.elementCount() / totalRows;
        if (output.type() == DataType.BYTES) {
            List<byte[]> elements = new ArrayList<>(rowCount * perRow);
            for (int i = firstRow * perRow; i < (firstRow + rowCount) * perRow; i++) {
                elements.add(element(output, i));
            }
            return Tensor.ofBytes(output.name(), shape, elements);
        }
        int rowBytes = perRow * output.type().byteSize();
        return Tensor.of(output.name(), output.type(), shape, output.data().slice(firstRow * rowBytes,
                rowCount * rowBytes));
    }

    /** A copy of element {@code index} of a BYTES tensor. */
    private static byte[] element(Tensor tensor, int index) {
        ByteBuffer element = tensor.bytesAt(index);
        byte[] copy = new byte[element.remaining()];
        element.get(copy);
        return copy;
    }
}
