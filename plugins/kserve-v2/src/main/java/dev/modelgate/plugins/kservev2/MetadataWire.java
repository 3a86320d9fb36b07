package dev.modelgate.plugins.kservev2;

import static dev.modelgate.plugins.kservev2.WireReader.invalid;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import dev.modelgate.spi.inference.DataType;
import dev.modelgate.spi.inference.ModelMetadata;
import dev.modelgate.spi.inference.TensorMetadata;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The model metadata answer, {@code GET /v2/models/{m}}: {@code {"name", "versions"?, "platform", "inputs":
 * [{"name", "datatype", "shape"}], "outputs": [...]}}, -1 marking a variable dimension.
 */
final class MetadataWire {

    private MetadataWire() {
    }

    /** Writes the answer; {@code versions} is left out when empty, a missing platform is written as "". */
    static void write(JsonGenerator generator, ModelMetadata metadata) throws IOException {
        generator.writeStartObject();
        generator.writeStringField("name", metadata.name());
        if (!metadata.versions().isEmpty()) {
            generator.writeArrayFieldStart("versions");
            for (String version : metadata.versions()) {
                generator.writeString(version);
            }
            generator.writeEndArray();
        }
        generator.writeStringField("platform", metadata.platform() == null ? "" : metadata.platform());
        tensors(generator, "inputs", metadata.inputs());
        tensors(generator, "outputs", metadata.outputs());
        generator.writeEndObject();
    }

    private static void tensors(JsonGenerator generator, String field, List<TensorMetadata> tensors)
            throws IOException {
        generator.writeArrayFieldStart(field);
        for (TensorMetadata tensor : tensors) {
            generator.writeStartObject();
            generator.writeStringField("name", tensor.name());
            generator.writeStringField("datatype", tensor.type().name());
            generator.writeArrayFieldStart("shape");
            for (long dimension : tensor.shape()) {
                generator.writeNumber(dimension);
            }
            generator.writeEndArray();
            generator.writeEndObject();
        }
        generator.writeEndArray();
    }

    /**
     * Reads the answer from the parser positioned on its first token. A missing name is {@code model}'s; missing
     * inputs or outputs are empty lists.
     */
    static ModelMetadata read(JsonParser parser, String model) throws IOException {
        WireReader.expect(parser, JsonToken.START_OBJECT, "the metadata", "an object");
        String name = model;
        List<String> versions = List.of();
        String platform = "";
        List<TensorMetadata> inputs = List.of();
        List<TensorMetadata> outputs = List.of();
        while (parser.nextToken() == JsonToken.FIELD_NAME) {
            String field = parser.currentName();
            parser.nextToken();
            switch (field) {
                case "name" -> name = WireReader.text(parser, "name");
                case "versions" -> versions = WireReader.texts(parser, "versions");
                case "platform" -> platform = WireReader.text(parser, "platform");
                case "inputs" -> inputs = tensors(parser, "inputs");
                case "outputs" -> outputs = tensors(parser, "outputs");
                default -> parser.skipChildren();
            }
        }
        return new ModelMetadata(name, versions, platform, inputs, outputs);
    }

    private static List<TensorMetadata> tensors(JsonParser parser, String list) throws IOException {
        WireReader.expect(parser, JsonToken.START_ARRAY, list, "an array");
        List<TensorMetadata> tensors = new ArrayList<>();
        while (parser.nextToken() != JsonToken.END_ARRAY) {
            String where = list + "[" + tensors.size() + "]";
            WireReader.expect(parser, JsonToken.START_OBJECT, where, "an object");
            String name = null;
            DataType type = null;
            List<Long> shape = null;
            while (parser.nextToken() == JsonToken.FIELD_NAME) {
                String field = parser.currentName();
                parser.nextToken();
                switch (field) {
                    case "name" -> name = WireReader.text(parser, where + ".name");
                    case "datatype" -> type = DataType.parse(WireReader.text(parser, where + ".datatype"));
                    case "shape" -> shape = boxed(WireReader.shape(parser, where + ".shape"));
                    default -> parser.skipChildren();
                }
            }
            if (name == null || type == null || shape == null) {
                throw invalid(where + " must have a name, a datatype and a shape");
            }
            tensors.add(new TensorMetadata(name, type, shape));
        }
        return tensors;
    }

    private static List<Long> boxed(long[] shape) {
        List<Long> boxed = new ArrayList<>(shape.length);
        for (long dimension : shape) {
            boxed.add(dimension);
        }
        return boxed;
    }
}
