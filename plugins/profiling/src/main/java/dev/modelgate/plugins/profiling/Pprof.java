package dev.modelgate.plugins.profiling;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.zip.GZIPOutputStream;
import one.convert.Arguments;
import one.convert.JfrToPprof;
import one.jfr.JfrReader;

/** JFR recordings as gzipped pprof profiles, written by async-profiler's converter. */
final class Pprof {

    private Pprof() {
    }

    /** The execution samples of {@code recording}, counted; Java names with dots, as Go's tools show packages. */
    static byte[] cpu(byte[] recording) throws IOException {
        return convert(recording, new Arguments("--dot"));
    }

    /** The allocation samples of {@code recording}, weighed in bytes. */
    static byte[] allocations(byte[] recording) throws IOException {
        return convert(recording, new Arguments("--alloc", "--total", "--dot"));
    }

    private static byte[] convert(byte[] recording, Arguments arguments) throws IOException {
        try (JfrReader reader = new JfrReader(ByteBuffer.wrap(recording))) {
            JfrToPprof converter = new JfrToPprof(reader, arguments);
            converter.convert();
            return gzipped(converter);
        }
    }

    /** What {@code converter} converted, gzipped, as {@code go tool pprof} fetches profiles. */
    static byte[] gzipped(JfrToPprof converter) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
            converter.dump(gzip);
        }
        return bytes.toByteArray();
    }
}
