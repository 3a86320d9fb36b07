package dev.modelgate.plugins.profiling;

import dev.modelgate.spi.RejectionException;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Semaphore;
import jdk.jfr.FlightRecorder;
import jdk.jfr.Recording;

/** Java Flight Recorder recordings, one at a time in the whole JVM. */
final class Recorder {

    /** CPU samples at Go's rate, 100 a second, of threads running Java code (virtual threads included). */
    static final Map<String, String> CPU_SAMPLES = Map.of(
            "jdk.ExecutionSample#enabled", "true",
            "jdk.ExecutionSample#period", "10 ms");
    /** Allocation samples, at most 300 a second (the JDK's profile settings), each weighed by the bytes it stands for. */
    static final Map<String, String> ALLOCATION_SAMPLES = Map.of(
            "jdk.ObjectAllocationSample#enabled", "true",
            "jdk.ObjectAllocationSample#throttle", "300/s");

    /**
     * Static, not per plugin instance: the recorder is the JVM's, and a second recording would add its sampling cost
     * to the first's however many configurations built this plugin.
     */
    private static final Semaphore ONE_AT_A_TIME = new Semaphore(1);

    private Recorder() {
    }

    /**
     * Records {@code settings} for {@code duration} and returns the recording's bytes.
     *
     * @throws RejectionException 409 when another recording runs, 503 when the JVM cannot record or the gateway stops
     */
    static byte[] record(Map<String, String> settings, Duration duration) throws IOException {
        if (!FlightRecorder.isAvailable()) {
            throw new RejectionException(ProfilingProvider.CANNOT_RECORD,
                    "Java Flight Recorder is not available in this JVM");
        }
        if (!ONE_AT_A_TIME.tryAcquire()) {
            throw new RejectionException(ProfilingProvider.RECORDING_RUNS,
                    "one recording at a time; ask again once it has ended");
        }
        try (Recording recording = new Recording(settings)) {
            recording.setName("modelgate-profiling");
            recording.start();
            Thread.sleep(duration);
            recording.stop();
            return bytes(recording);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RejectionException(ProfilingProvider.CANNOT_RECORD, "the gateway is stopping");
        } finally {
            ONE_AT_A_TIME.release();
        }
    }

    /**
     * A recording of nothing, for its chunk header, metadata and constant pools: what async-profiler's converter
     * reads before any event. Samples nothing, so it does not count as the one recording.
     */
    static byte[] empty() throws IOException {
        try (Recording recording = new Recording()) {
            recording.start();
            recording.stop();
            return bytes(recording);
        }
    }

    private static byte[] bytes(Recording recording) throws IOException {
        try (InputStream in = recording.getStream(null, null)) {
            if (in == null) {
                throw new IOException("the recording holds no data");
            }
            return in.readAllBytes();
        }
    }
}
