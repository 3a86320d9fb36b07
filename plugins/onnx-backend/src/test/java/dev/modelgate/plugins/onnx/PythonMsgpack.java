package dev.modelgate.plugins.onnx;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * MessagePack written and read by Debian's python3-msgpack: a library other than the one the gateway uses, so a test
 * does not only prove that our encoder agrees with our decoder. {@code scripts/test} installs it.
 */
final class PythonMsgpack {

    /** Debian's own interpreter, where apt puts python3-msgpack (a pyenv or venv python3 on PATH lacks it). */
    private static final String DEBIAN_PYTHON = "/usr/bin/python3";

    private PythonMsgpack() {
    }

    /** The MessagePack bytes of a Python literal. */
    static byte[] pack(String pythonLiteral) throws IOException, InterruptedException {
        return run("import msgpack, sys; sys.stdout.buffer.write(msgpack.packb(" + pythonLiteral + "))", new byte[0]);
    }

    /** The text of {@code expression} over {@code d}, the decoded value of {@code bytes}. */
    static String unpack(byte[] bytes, String expression) throws IOException, InterruptedException {
        return new String(run("import msgpack, sys; d = msgpack.unpackb(sys.stdin.buffer.read()); print(" + expression
                + ", end='')", bytes), StandardCharsets.UTF_8);
    }

    private static byte[] run(String program, byte[] input) throws IOException, InterruptedException {
        Process python = new ProcessBuilder(DEBIAN_PYTHON, "-c", program).redirectError(ProcessBuilder.Redirect.INHERIT)
                .start();
        try (var stdin = python.getOutputStream()) {
            stdin.write(input);
        }
        byte[] output = python.getInputStream().readAllBytes();
        if (!python.waitFor(30, TimeUnit.SECONDS) || python.exitValue() != 0) {
            throw new IOException("python3 with msgpack failed; scripts/test installs python3-msgpack");
        }
        return output;
    }
}
