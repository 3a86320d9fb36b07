package dev.modelgate.spi.inference;

import java.util.List;

/**
 * What a backend knows of a model: the Open Inference Protocol's model metadata.
 *
 * @param name the model's name
 * @param versions the versions served; empty when the backend does not version models
 * @param platform the framework that runs it ({@code onnxruntime_onnx}, ...), information only
 * @param inputs the inputs a request must give
 * @param outputs the outputs the model produces
 */
public record ModelMetadata(String name, List<String> versions, String platform, List<TensorMetadata> inputs,
        List<TensorMetadata> outputs) {

    public ModelMetadata {
        versions = List.copyOf(versions);
        inputs = List.copyOf(inputs);
        outputs = List.copyOf(outputs);
    }

    /** The same metadata under the name clients use for the model. */
    public ModelMetadata withName(String newName) {
        return new ModelMetadata(newName, versions, platform, inputs, outputs);
    }
}
