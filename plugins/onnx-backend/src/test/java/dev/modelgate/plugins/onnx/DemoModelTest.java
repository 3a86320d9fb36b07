package dev.modelgate.plugins.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;

class DemoModelTest {

    @Test
    void committedDemoModelIsWhatTheGeneratorWrites() throws IOException {
        byte[] committed;
        try (InputStream in = DemoModelTest.class.getClassLoader().getResourceAsStream("models/demo.onnx")) {
            committed = in == null ? new byte[0] : in.readAllBytes();
        }
        assertArrayEquals(DemoModel.bytes(), committed,
                "src/main/resources/models/demo.onnx is stale; regenerate it with scripts/gen-demo-model");
    }
}
