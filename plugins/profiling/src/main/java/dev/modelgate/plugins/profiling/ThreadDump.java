package dev.modelgate.plugins.profiling;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.management.HotSpotDiagnosticMXBean;
import dev.modelgate.spi.Json;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The JDK's thread dump ({@code HotSpotDiagnosticMXBean.dumpThreads}), the one view of every thread that includes
 * virtual threads, which {@code Thread.getAllStackTraces} leaves out.
 */
final class ThreadDump {

    /**
     * One thread of the dump.
     *
     * @param stack its frames as the dump prints them ({@code java.base/java.lang.Thread.sleep(Thread.java:509)}),
     *     innermost first
     */
    record DumpedThread(String id, String name, String state, boolean virtual, List<String> stack) {
    }

    private ThreadDump() {
    }

    /** The dump in the JDK's JSON format. */
    static String json() throws IOException {
        // dumpThreads writes only to a file that does not exist yet, by absolute path.
        Path folder = Files.createTempDirectory("modelgate-threads");
        Path file = folder.resolve("threads.json");
        try {
            ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class)
                    .dumpThreads(file.toAbsolutePath().toString(), HotSpotDiagnosticMXBean.ThreadDumpFormat.JSON);
            return Files.readString(file);
        } finally {
            Files.deleteIfExists(file);
            Files.delete(folder);
        }
    }

    /** Every thread of a fresh dump, container by container. */
    static List<DumpedThread> threads() throws IOException {
        List<DumpedThread> threads = new ArrayList<>();
        for (JsonNode container : Json.MAPPER.readTree(json()).path("threadDump").path("threadContainers")) {
            for (JsonNode thread : container.path("threads")) {
                List<String> stack = new ArrayList<>();
                thread.path("stack").forEach(frame -> stack.add(frame.asText()));
                threads.add(new DumpedThread(thread.path("tid").asText(), thread.path("name").asText(),
                        thread.path("state").asText(), thread.path("virtual").asBoolean(false), List.copyOf(stack)));
            }
        }
        return threads;
    }

    /**
     * The threads as Go's {@code goroutine?debug=2} text: a {@code goroutine ID [STATE]:} line (with
     * {@code virtual} and the thread's name in the brackets), then each frame's function and, indented, its source.
     */
    static String text(List<DumpedThread> threads) {
        StringBuilder text = new StringBuilder();
        for (DumpedThread thread : threads) {
            text.append("goroutine ").append(thread.id()).append(" [").append(thread.state())
                    .append(thread.virtual() ? ", virtual" : "")
                    .append(", ").append(Json.MAPPER.getNodeFactory().textNode(thread.name()).toString())
                    .append("]:\n");
            for (String frame : thread.stack()) {
                StackFrame parsed = StackFrame.parse(frame);
                text.append(parsed.className()).append('.').append(parsed.method()).append("(...)\n\t")
                        .append(parsed.source()).append('\n');
            }
            text.append('\n');
        }
        return text.toString();
    }
}
