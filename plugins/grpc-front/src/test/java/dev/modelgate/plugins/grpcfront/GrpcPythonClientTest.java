package dev.modelgate.plugins.grpcfront;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A client not written in Java: Debian's python3-grpcio, with stubs that python3-grpc-tools' protoc makes at test
 * time from the {@code .proto} files the plugins ship in their jars ({@code scripts/test} installs both packages).
 */
class GrpcPythonClientTest {

    /** Debian's own interpreter, where apt puts grpcio (a pyenv or venv python3 on PATH lacks it). */
    private static final String DEBIAN_PYTHON = "/usr/bin/python3";

    @Test
    void aPythonClientCallsModelInferAndPredictAndReadsAnErrorsCode() throws Exception {
        Path stubs = Files.createTempDirectory("modelgate-python-stubs-");
        List<String> protos = List.of("open_inference_grpc.proto", "model_service.proto");
        for (String proto : protos) {
            try (InputStream shipped = getClass().getClassLoader().getResourceAsStream(proto)) {
                if (shipped == null) {
                    throw new AssertionError(proto + " is not shipped in the plugins' jars");
                }
                Files.copy(shipped, stubs.resolve(proto));
            }
        }
        List<String> protoc = new ArrayList<>(List.of(DEBIAN_PYTHON, "-m", "grpc_tools.protoc", "-I" + stubs,
                "--python_out=" + stubs, "--grpc_python_out=" + stubs));
        protoc.addAll(protos);
        run(protoc);
        Path client = stubs.resolve("grpc_client.py");
        try (InputStream script = getClass().getResourceAsStream("/grpc_client.py")) {
            Files.copy(script, client);
        }
        try (GrpcGateway gateway = GrpcGateway.start(GrpcGateway.DEMO)) {
            String output = run(List.of(DEBIAN_PYTHON, client.toString(), stubs.toString(),
                    Integer.toString(gateway.gateway.grpcPort())));
            assertEquals("""
                    infer demo py-1 [0, 2]
                    predict demo 3 2
                    error NOT_FOUND True
                    """, output);
        }
    }

    private static String run(List<String> command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new AssertionError(String.join(" ", command) + " failed (scripts/test installs python3-grpcio and "
                    + "python3-grpc-tools): " + output);
        }
        return output;
    }
}
