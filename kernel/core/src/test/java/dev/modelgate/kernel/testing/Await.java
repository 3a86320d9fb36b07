package dev.modelgate.kernel.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Waits on a condition with a deadline: checks it, then parks a few milliseconds, so that a waiting test leaves the
 * cores to the gateway it waits for. Tests wait this way for what lands a moment after an answer (a metric, a log
 * line, a held call), never for a fixed time.
 */
public final class Await {

    /** Long enough for a loaded 2-core machine, short enough that a broken condition fails the test soon. */
    public static final Duration DEADLINE = Duration.ofSeconds(10);
    private static final long PAUSE_NANOS = Duration.ofMillis(5).toNanos();

    private Await() {
    }

    /** Returns once {@code condition} holds; fails naming {@code what} after {@link #DEADLINE}. */
    public static void until(String what, BooleanSupplier condition) {
        until(what, DEADLINE, condition);
    }

    /** Returns once {@code condition} holds; fails naming {@code what} after {@code within}. */
    public static void until(String what, Duration within, BooleanSupplier condition) {
        until(what, within, () -> condition.getAsBoolean() ? Boolean.TRUE : null, () -> "");
    }

    /**
     * Returns the first non-null value of {@code attempt}; fails after {@code within} naming {@code what} and the
     * last state {@code lastSeen} describes.
     */
    public static <T> T until(String what, Duration within, Supplier<T> attempt, Supplier<String> lastSeen) {
        long deadline = System.nanoTime() + within.toNanos();
        while (true) {
            T value = attempt.get();
            if (value != null) {
                return value;
            }
            if (System.nanoTime() - deadline >= 0) {
                String seen = lastSeen.get();
                throw new AssertionError("not " + what + " within " + within + (seen.isEmpty() ? "" : "; last seen:\n"
                        + seen));
            }
            LockSupport.parkNanos(PAUSE_NANOS);
            if (Thread.interrupted()) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while waiting for " + what);
            }
        }
    }

    /**
     * The lines of {@code file} (an access log, written in the background) once {@code enough} holds for them; fails
     * after {@link #DEADLINE} with what the file held last.
     */
    public static List<String> lines(Path file, Predicate<List<String>> enough) {
        return until("the lines wanted in " + file, DEADLINE, () -> {
            List<String> lines = readLines(file);
            return enough.test(lines) ? lines : null;
        }, () -> String.join("\n", readLines(file)));
    }

    private static List<String> readLines(Path file) {
        try {
            return Files.exists(file) ? Files.readAllLines(file) : List.of();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
