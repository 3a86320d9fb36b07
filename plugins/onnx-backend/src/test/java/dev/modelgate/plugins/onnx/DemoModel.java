package dev.modelgate.plugins.onnx;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the demo model that the gateway ships as {@code classpath:models/demo.onnx}: a small Iris classifier, a
 * multinomial logistic regression, encoded as ONNX protobuf by hand so that building it needs no Python and no
 * protobuf library.
 *
 * <p>Input {@code features}, float {@code [batch, 4]}: sepal length, sepal width, petal length and petal width, in cm.
 * Outputs {@code probabilities}, float {@code [batch, 3]}, and {@code label}, int64 {@code [batch]}: class 0 setosa,
 * 1 versicolor, 2 virginica. The graph is {@code logits = Gemm(features, W, B)},
 * {@code probabilities = Softmax(logits, axis=1)}, {@code label = ArgMax(probabilities, axis=1, keepdims=0)}; opset 13,
 * IR version 8. The weights, one row per class (W is their transpose):
 *
 * <pre>
 *   class        sepal length  sepal width  petal length  petal width  intercept
 *   setosa            -0.42         0.97        -2.52         -1.08        9.85
 *   versicolor         0.53        -0.32        -0.21         -0.94        2.24
 *   virginica         -0.11        -0.65         2.73          2.02      -12.09
 * </pre>
 *
 * <p>Regenerate the committed file with {@code scripts/gen-demo-model}. This class runs in source-launch mode
 * ({@code java DemoModel.java <out>}), so it depends on the JDK only.
 */
public final class DemoModel {

    static final String INPUT = "features";
    static final String PROBABILITIES = "probabilities";
    static final String LABEL = "label";
    static final String[] CLASSES = {"setosa", "versicolor", "virginica"};
    static final float[][] COEFFICIENTS = {
        {-0.42f, 0.97f, -2.52f, -1.08f},
        {0.53f, -0.32f, -0.21f, -0.94f},
        {-0.11f, -0.65f, 2.73f, 2.02f},
    };
    static final float[] INTERCEPTS = {9.85f, 2.24f, -12.09f};

    private static final int FEATURES = 4;
    private static final long IR_VERSION = 8;
    private static final long OPSET = 13;

    // ONNX enum values, from onnx/onnx.proto.
    static final int ELEMENT_FLOAT = 1;
    static final int ELEMENT_INT32 = 6;
    static final int ELEMENT_INT64 = 7;
    static final int ELEMENT_DOUBLE = 11;
    private static final int ATTRIBUTE_INT = 2;

    private DemoModel() {
    }

    public static void main(String[] args) throws IOException {
        boolean dense = args.length == 2 && args[0].equals("--dense");
        if (args.length != 1 && !dense) {
            System.err.println("usage: java DemoModel.java [--dense] <output.onnx>");
            System.exit(2);
        }
        Path out = Path.of(args[args.length - 1]);
        Files.write(out, dense ? dense() : bytes());
        System.out.println("wrote " + out.toAbsolutePath());
    }

    /** The demo model's ONNX ModelProto bytes; the same bytes on every call. */
    public static byte[] bytes() {
        return model(graph());
    }

    /** A ModelProto around {@code graph}, at the demo model's IR version and opset; tests build models with it. */
    static byte[] model(Message graph) {
        return new Message()
                .int64(1, IR_VERSION)
                .string(2, "modelgate-demo-model")
                .message(7, graph)
                .message(8, new Message().string(1, "").int64(2, OPSET))
                .toByteArray();
    }

    private static Message graph() {
        return new Message()
                .message(1, node("gemm", "Gemm", new String[] {INPUT, "W", "B"}, "logits"))
                .message(1, node("softmax", "Softmax", new String[] {"logits"}, PROBABILITIES)
                        .message(5, intAttribute("axis", 1)))
                .message(1, node("argmax", "ArgMax", new String[] {PROBABILITIES}, LABEL)
                        .message(5, intAttribute("axis", 1))
                        .message(5, intAttribute("keepdims", 0)))
                .string(2, "iris")
                .message(5, floatTensor("W", new long[] {FEATURES, CLASSES.length}, weightsByFeature()))
                .message(5, floatTensor("B", new long[] {CLASSES.length}, INTERCEPTS))
                .message(11, valueInfo(INPUT, ELEMENT_FLOAT, "batch", FEATURES))
                .message(12, valueInfo(PROBABILITIES, ELEMENT_FLOAT, "batch", CLASSES.length))
                .message(12, valueInfo(LABEL, ELEMENT_INT64, "batch"));
    }

    /** W[feature][class], row-major: the transpose of {@link #COEFFICIENTS}. */
    private static float[] weightsByFeature() {
        float[] weights = new float[FEATURES * CLASSES.length];
        for (int feature = 0; feature < FEATURES; feature++) {
            for (int label = 0; label < CLASSES.length; label++) {
                weights[feature * CLASSES.length + label] = COEFFICIENTS[label][feature];
            }
        }
        return weights;
    }

    static Message node(String name, String opType, String[] inputs, String output) {
        Message node = new Message();
        for (String input : inputs) {
            node.string(1, input);
        }
        return node.string(2, output).string(3, name).string(4, opType);
    }

    private static Message intAttribute(String name, long value) {
        return new Message().string(1, name).int64(3, value).int64(20, ATTRIBUTE_INT);
    }

    static Message floatTensor(String name, long[] dims, float[] values) {
        Message tensor = new Message();
        for (long dim : dims) {
            tensor.int64(1, dim);
        }
        return tensor.int64(2, ELEMENT_FLOAT).packedFloats(4, values).string(8, name);
    }

    /** A tensor type whose first dimension is the symbolic {@code batch} and the rest are fixed. */
    static Message valueInfo(String name, int elementType, String batchDimension, int... fixedDimensions) {
        Message shape = new Message().message(1, new Message().string(2, batchDimension));
        for (int dimension : fixedDimensions) {
            shape.message(1, new Message().int64(1, dimension));
        }
        Message tensorType = new Message().int64(1, elementType).message(2, shape);
        return new Message().string(1, name).message(2, new Message().message(1, tensorType));
    }

    /** Just enough of the protobuf wire format: varint and length-delimited fields, in the order written. */
    static final class Message {

        private static final int VARINT = 0;
        private static final int LENGTH_DELIMITED = 2;

        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Message int64(int field, long value) {
            tag(field, VARINT);
            varint(value);
            return this;
        }

        Message string(int field, String value) {
            return bytes(field, value.getBytes(StandardCharsets.UTF_8));
        }

        Message message(int field, Message value) {
            return bytes(field, value.toByteArray());
        }

        Message packedFloats(int field, float[] values) {
            ByteArrayOutputStream packed = new ByteArrayOutputStream();
            for (float value : values) {
                int bits = Float.floatToIntBits(value);
                for (int shift = 0; shift < Integer.SIZE; shift += Byte.SIZE) {
                    packed.write(bits >>> shift); // protobuf fixed32 is little-endian
                }
            }
            return bytes(field, packed.toByteArray());
        }

        byte[] toByteArray() {
            return out.toByteArray();
        }

        private Message bytes(int field, byte[] value) {
            tag(field, LENGTH_DELIMITED);
            varint(value.length);
            out.writeBytes(value);
            return this;
        }

        private void tag(int field, int wireType) {
            varint((long) field << 3 | wireType);
        }

        private void varint(long value) {
            while ((value & ~0x7FL) != 0) {
                out.write((int) (value & 0x7F) | 0x80);
                value >>>= 7;
            }
            out.write((int) value);
        }
    }

    /**
     * A model of three inputs of three types, each passed through to an output: {@code counts} INT64 [batch, 2]
     * doubled, {@code scale} DOUBLE [batch, 1] squared, {@code ids} INT32 [batch] as they are.
     */
    static byte[] multiInput() {
        return model(new Message()
                .message(1, node("add", "Add", new String[] {"counts", "counts"}, "doubled"))
                .message(1, node("mul", "Mul", new String[] {"scale", "scale"}, "squared"))
                .message(1, node("identity", "Identity", new String[] {"ids"}, "same_ids"))
                .string(2, "multi-input")
                .message(11, valueInfo("counts", ELEMENT_INT64, "batch", 2))
                .message(11, valueInfo("scale", ELEMENT_DOUBLE, "batch", 1))
                .message(11, valueInfo("ids", ELEMENT_INT32, "batch"))
                .message(12, valueInfo("doubled", ELEMENT_INT64, "batch", 2))
                .message(12, valueInfo("squared", ELEMENT_DOUBLE, "batch", 1))
                .message(12, valueInfo("same_ids", ELEMENT_INT32, "batch")));
    }

    /** Features of {@link #dense()}'s input row. */
    static final int DENSE_FEATURES = 64;
    private static final int DENSE_HIDDEN = 256;
    private static final int DENSE_SCORES = 8;

    /**
     * A model large enough for batching to matter, for the bench (not shipped): {@code features} FP32
     * [batch, 64] through two dense layers of 256 with ReLU to {@code scores} FP32 [batch, 8], about 83,000 weights
     * drawn from a fixed seed. One row costs about 84,000 multiply-adds; a run's fixed cost is paid once per batch.
     */
    static byte[] dense() {
        java.util.Random random = new java.util.Random(20261129);
        int[] widths = {DENSE_FEATURES, DENSE_HIDDEN, DENSE_HIDDEN, DENSE_SCORES};
        Message graph = new Message();
        String input = INPUT;
        for (int layer = 0; layer < 3; layer++) {
            String output = layer == 2 ? "scores" : "relu" + layer;
            String gemm = layer == 2 ? output : "dense" + layer;
            graph.message(1, node("gemm" + layer, "Gemm", new String[] {input, "W" + layer, "B" + layer}, gemm));
            if (layer < 2) {
                graph.message(1, node("relu" + layer, "Relu", new String[] {gemm}, output));
            }
            input = output;
        }
        graph.string(2, "dense");
        for (int layer = 0; layer < 3; layer++) {
            float[] weights = new float[widths[layer] * widths[layer + 1]];
            float scale = (float) Math.sqrt(2.0 / widths[layer]);
            for (int i = 0; i < weights.length; i++) {
                weights[i] = (float) random.nextGaussian() * scale;
            }
            graph.message(5, floatTensor("W" + layer, new long[] {widths[layer], widths[layer + 1]}, weights))
                    .message(5, floatTensor("B" + layer, new long[] {widths[layer + 1]}, new float[widths[layer + 1]]));
        }
        return model(graph.message(11, valueInfo(INPUT, ELEMENT_FLOAT, "batch", DENSE_FEATURES))
                .message(12, valueInfo("scores", ELEMENT_FLOAT, "batch", DENSE_SCORES)));
    }
}
