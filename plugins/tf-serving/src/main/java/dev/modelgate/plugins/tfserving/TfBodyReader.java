package dev.modelgate.plugins.tfserving;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads TF Serving bodies from a streaming parser into tensors: predict requests (row and columnar), classify and
 * regress requests, and predict answers. Element by element, straight into each tensor's {@link ElementSink}.
 *
 * <p>Structural faults answer {@link CoreErrors#INVALID_PREDICT_REQUEST} with TF Serving's own messages where it has
 * them; faults of the values come from the readers and builders. Syntax faults surface as {@link IOException}s, for
 * the codec to report in its media type's terms.
 */
final class TfBodyReader {

    /** What a body held: its form, its {@code signature_name} (or {@code null}) and its tensors. */
    record Body(Form form, String signatureName, List<Tensor> tensors) {
    }

    /** What a body is, which decides the keys it may hold. */
    enum Verb {
        PREDICT("instances", "inputs", "expecting only one of 'inputs' or 'instances' keys to exist",
                "Missing 'inputs' or 'instances' key"),
        CLASSIFY("examples", null, "'examples' must be given once", "Missing 'examples' key"),
        REGRESS("examples", null, "'examples' must be given once", "Missing 'examples' key"),
        /** A backend's answer to a predict request. */
        ANSWER("predictions", "outputs", "expecting only one of 'outputs' or 'predictions' keys to exist",
                "Missing 'outputs' or 'predictions' key");

        private final String rowKey;
        private final String columnarKey;
        private final String bothKeys;
        private final String missingKey;

        Verb(String rowKey, String columnarKey, String bothKeys, String missingKey) {
            this.rowKey = rowKey;
            this.columnarKey = columnarKey;
            this.bothKeys = bothKeys;
            this.missingKey = missingKey;
        }

        /** The verb of a front's call: {@code classify}, {@code regress}, else predict. */
        static Verb of(String verb) {
            return switch (verb == null ? "" : verb) {
                case "classify" -> CLASSIFY;
                case "regress" -> REGRESS;
                default -> PREDICT;
            };
        }

        boolean examples() {
            return this == CLASSIFY || this == REGRESS;
        }

        /** The form a top-level key gives the body, or {@code null} when the key holds no tensors. */
        Form formOf(String key) {
            if (key.equals(rowKey)) {
                return switch (this) {
                    case CLASSIFY -> Form.CLASSIFY;
                    case REGRESS -> Form.REGRESS;
                    default -> Form.ROW;
                };
            }
            return key.equals(columnarKey) ? Form.COLUMNAR : null;
        }
    }

    private final JsonParser parser;

    TfBodyReader(JsonParser parser) {
        this.parser = parser;
    }

    /**
     * Reads a body of {@code verb}, the parser before its first token; leaves the parser on its last.
     *
     * @param signature the tensors the body may name
     */
    Body read(Verb verb, Signature signature) throws IOException {
        if (TfParsing.next(parser) != JsonToken.START_OBJECT) {
            throw invalid("the body must be a JSON object");
        }
        String signatureName = null;
        Form form = null;
        List<Tensor> tensors = List.of();
        List<Tensor> context = List.of();
        while (TfParsing.next(parser) == JsonToken.FIELD_NAME) {
            String key = parser.currentName();
            TfParsing.next(parser);
            Form keyForm = verb.formOf(key);
            if (key.equals("signature_name") && verb != Verb.ANSWER) {
                if (parser.currentToken() != JsonToken.VALUE_STRING) {
                    throw invalid("'signature_name' must be a string");
                }
                signatureName = parser.getText();
            } else if (key.equals("context") && verb.examples()) {
                context = readColumns(signature, "'context'");
            } else if (keyForm == null) {
                parser.skipChildren();
            } else if (form != null) {
                throw invalid(verb.bothKeys);
            } else {
                form = keyForm;
                tensors = switch (keyForm) {
                    case ROW -> readRows(signature, key, false);
                    case COLUMNAR -> readColumnar(signature, key);
                    case CLASSIFY, REGRESS -> readRows(signature, key, true);
                };
            }
        }
        if (form == null) {
            throw invalid(verb.missingKey);
        }
        return new Body(form, signatureName, context.isEmpty() ? tensors : withContext(tensors, context));
    }

    /** Rows: a non-empty list of plain values or lists, or of objects naming each tensor. */
    private List<Tensor> readRows(Signature signature, String key, boolean examples) throws IOException {
        if (parser.currentToken() != JsonToken.START_ARRAY) {
            throw invalid("'" + key + "' must be a list");
        }
        String rowWord = examples ? "example" : "instance";
        RowStacker stacker = new RowStacker(parser, signature, rowWord);
        boolean named = false;
        int row = 0;
        for (; TfParsing.next(parser) != JsonToken.END_ARRAY; row++) {
            boolean object = parser.currentToken() == JsonToken.START_OBJECT;
            if (examples) {
                if (!object) {
                    throw invalid("example " + row + " must be an object of features");
                }
                TfParsing.forEachMember(parser, new RowMembers(stacker, row, null));
            } else {
                // Mixing is refused as soon as it shows, before a row's values reach the stacker.
                RowMembers members = new RowMembers(stacker, row, row > 0 && !named ? key : null);
                String base64 = object ? TfParsing.readBase64OrMembers(parser, members) : null;
                boolean namedRow = object && base64 == null;
                if (row > 0 && named != namedRow) {
                    throw mixed(key, row);
                }
                named = namedRow;
                if (!object) {
                    stacker.add(row, signature.unnamed());
                } else if (base64 != null) {
                    String name = signature.unnamed();
                    stacker.addBytes(row, name, NestedValueReader.decodeBase64(name, base64));
                }
            }
            stacker.endRow(row);
        }
        if (row == 0) {
            throw invalid("'" + key + "' must be a non-empty list");
        }
        return stacker.build(row);
    }

    /** Columnar: one plain value or list, or an object of them by name, each its own shape. */
    private List<Tensor> readColumnar(Signature signature, String key) throws IOException {
        if (parser.currentToken() == JsonToken.START_OBJECT) {
            Columns columns = new Columns(signature);
            String base64 = TfParsing.readBase64OrMembers(parser, columns);
            if (base64 == null) {
                List<Tensor> tensors = columns.tensors();
                if (tensors.isEmpty()) {
                    throw invalid("'" + key + "' names no tensor");
                }
                signature.checkNames(tensors.stream().map(Tensor::name).toList(), "'" + key + "'");
                return tensors;
            }
            String name = signature.unnamed();
            ElementSink sink = signature.sink(name);
            sink.addBytes(NestedValueReader.decodeBase64(name, base64));
            return List.of(sink.build(new long[0]));
        }
        String name = signature.unnamed();
        ElementSink sink = signature.sink(name);
        return List.of(sink.build(new NestedValueReader(parser, sink, name).read()));
    }

    /** An object of named values, each its own tensor: the columnar form's object, classify's context. */
    private List<Tensor> readColumns(Signature signature, String where) throws IOException {
        if (parser.currentToken() != JsonToken.START_OBJECT) {
            throw invalid(where + " must be an object");
        }
        Columns columns = new Columns(signature);
        TfParsing.forEachMember(parser, columns);
        return columns.tensors();
    }

    /**
     * The examples' tensors followed by the context's, each context tensor repeated once per example.
     *
     * @throws RejectionException with {@link CoreErrors#INVALID_PREDICT_REQUEST} for a feature in both
     */
    private static List<Tensor> withContext(List<Tensor> examples, List<Tensor> context) {
        Set<String> names = new HashSet<>();
        examples.forEach(tensor -> names.add(tensor.name()));
        long count = examples.isEmpty() ? 0 : examples.getFirst().dimension(0);
        List<Tensor> all = new ArrayList<>(examples);
        for (Tensor feature : context) {
            if (names.contains(feature.name())) {
                throw invalid("feature '" + feature.name() + "' is in both 'context' and 'examples'");
            }
            all.add(repeat(feature, count));
        }
        return all;
    }

    private static Tensor repeat(Tensor tensor, long times) {
        long[] shape = tensor.shape();
        long[] stacked = new long[shape.length + 1];
        stacked[0] = times;
        System.arraycopy(shape, 0, stacked, 1, shape.length);
        if (tensor.type() == DataType.BYTES) {
            List<byte[]> once = new ArrayList<>(tensor.elementCount());
            for (int i = 0; i < tensor.elementCount(); i++) {
                once.add(TensorWriter.bytesAt(tensor, i));
            }
            List<byte[]> elements = new ArrayList<>();
            for (long t = 0; t < times; t++) {
                elements.addAll(once);
            }
            return Tensor.ofBytes(tensor.name(), stacked, elements);
        }
        ByteBuffer data = tensor.data();
        ByteBuffer repeated = ByteBuffer.allocate(Math.multiplyExact((int) times, data.remaining()));
        for (long t = 0; t < times; t++) {
            repeated.put(data.duplicate());
        }
        return Tensor.of(tensor.name(), tensor.type(), stacked, repeated.flip());
    }

    private static RejectionException invalid(String message) {
        return new RejectionException(CoreErrors.INVALID_PREDICT_REQUEST, message);
    }

    private static RejectionException mixed(String key, int row) {
        return invalid("'" + key + "' mixes objects and plain values or lists (at instance " + row
                + "); they must all be one or the other");
    }

    /**
     * Members of one row, each a value of the row's tensor of that name.
     *
     * @param mixedKey the list's key when earlier rows were plain values, so that members are refused; else null
     */
    private record RowMembers(RowStacker stacker, int row, String mixedKey) implements TfParsing.Members {

        @Override
        public void value(String name) throws IOException {
            refuseIfMixed();
            stacker.add(row, name);
        }

        @Override
        public void string(String name, String text) {
            refuseIfMixed();
            stacker.addString(row, name, text);
        }

        private void refuseIfMixed() {
            if (mixedKey != null) {
                throw mixed(mixedKey, row);
            }
        }
    }

    /** Members of an object that each name a tensor of their own. */
    private final class Columns implements TfParsing.Members {

        private final Signature signature;
        private final Map<String, Tensor> tensors = new LinkedHashMap<>();

        Columns(Signature signature) {
            this.signature = signature;
        }

        @Override
        public void value(String name) throws IOException {
            ElementSink sink = sink(name);
            put(name, sink.build(new NestedValueReader(parser, sink, name).read()));
        }

        @Override
        public void string(String name, String text) {
            ElementSink sink = sink(name);
            put(name, sink.build(new NestedValueReader(parser, sink, name).readString(text)));
        }

        List<Tensor> tensors() {
            return List.copyOf(tensors.values());
        }

        private ElementSink sink(String name) {
            if (tensors.containsKey(name)) {
                throw invalid("'" + name + "' is given twice");
            }
            return signature.sink(name);
        }

        private void put(String name, Tensor tensor) {
            tensors.put(name, tensor);
        }
    }
}
