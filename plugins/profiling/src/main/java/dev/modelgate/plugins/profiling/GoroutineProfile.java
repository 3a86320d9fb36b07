package dev.modelgate.plugins.profiling;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import one.convert.Arguments;
import one.convert.JfrToPprof;
import one.jfr.ClassRef;
import one.jfr.JfrReader;
import one.jfr.MethodRef;
import one.jfr.StackTrace;
import one.jfr.event.ExecutionSample;

/**
 * A thread dump as Go's goroutine profile: one sample per distinct stack, valued by how many threads have it. JFR
 * samples only running threads, so the stacks come from {@link ThreadDump}; async-profiler's converter still writes
 * the profile.proto: each thread goes in as one sample of the recording it converts, its frames entered in the
 * reader's symbol, class, method and stack trace tables as a recording's constant pools would enter them.
 */
final class GoroutineProfile extends JfrToPprof {

    /** JFR's frame type for an interpreted Java frame: shown with its class, unlike native frames. */
    private static final byte JAVA_FRAME = 0;

    private final List<ThreadDump.DumpedThread> threads;
    private final Map<String, Long> symbols = new HashMap<>();
    private final Map<String, Long> classes = new HashMap<>();
    private final Map<String, Long> methods = new HashMap<>();
    private final Map<List<String>, Integer> stackTraces = new HashMap<>();

    private GoroutineProfile(JfrReader reader, List<ThreadDump.DumpedThread> threads) {
        super(reader, new Arguments("--dot"));
        this.threads = threads;
    }

    /** The gzipped goroutine profile of {@code threads}. */
    static byte[] of(List<ThreadDump.DumpedThread> threads) throws IOException {
        try (JfrReader reader = new JfrReader(ByteBuffer.wrap(Recorder.empty()))) {
            GoroutineProfile profile = new GoroutineProfile(reader, threads);
            profile.convert();
            return Pprof.gzipped(profile);
        }
    }

    @Override
    public String getValueType() {
        return "goroutine";
    }

    @Override
    public String getSampleUnits() {
        return "count";
    }

    @Override
    protected void collectEvents() throws IOException {
        // The empty recording's own entries, if any, must not stand for ours under the same ids.
        jfr.symbols.clear();
        jfr.classes.clear();
        jfr.methods.clear();
        jfr.stackTraces.clear();
        for (ThreadDump.DumpedThread thread : threads) {
            int stackTrace = stackTraces.computeIfAbsent(thread.stack(), this::addStackTrace);
            collector.collect(new ExecutionSample(jfr.startTicks, 0, stackTrace, 0, 1));
        }
        super.collectEvents(); // reads the empty recording to its end
    }

    private int addStackTrace(List<String> stack) {
        long[] frameMethods = new long[stack.size()];
        byte[] types = new byte[stack.size()];
        int[] locations = new int[stack.size()];
        for (int i = 0; i < stack.size(); i++) {
            StackFrame frame = StackFrame.parse(stack.get(i));
            frameMethods[i] = method(frame);
            types[i] = JAVA_FRAME;
            locations[i] = Math.min(frame.line(), 0xffff) << 16; // the line in the high half, no bytecode index
        }
        int id = stackTraces.size() + 1;
        jfr.stackTraces.put(id, new StackTrace(frameMethods, types, locations));
        return id;
    }

    private long method(StackFrame frame) {
        return methods.computeIfAbsent(frame.className() + "#" + frame.method(), key -> {
            long id = methods.size() + 1L;
            jfr.methods.put(id, new MethodRef(classOf(frame.className()), symbol(frame.method()), symbol("")));
            return id;
        });
    }

    private long classOf(String name) {
        return classes.computeIfAbsent(name, key -> {
            long id = classes.size() + 1L;
            jfr.classes.put(id, new ClassRef(symbol(name)));
            return id;
        });
    }

    private long symbol(String text) {
        return symbols.computeIfAbsent(text, key -> {
            long id = symbols.size() + 1L;
            jfr.symbols.put(id, text.getBytes(StandardCharsets.UTF_8));
            return id;
        });
    }
}
