package dev.modelgate.plugins.profiling;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.admin.AdminEndpoint;
import dev.modelgate.spi.admin.AdminEndpointProvider;
import java.util.List;
import java.util.Map;

/**
 * Admin endpoints {@code profiling}: Go's pprof profiles ({@code /debug/pprof/profile}, {@code heap},
 * {@code goroutine}) so that {@code go tool pprof} works against the gateway unchanged, and the JVM's own forms
 * ({@code /debug/jvm/recording}, {@code threads}, {@code histogram}). Configured under {@code admin.profiling}.
 */
public final class ProfilingProvider implements AdminEndpointProvider {

    static final ErrorCode BAD_DURATION = new ErrorCode(20901, 400, "INVALID_ARGUMENT", "invalid profiling duration");
    static final ErrorCode BAD_PARAMETER = new ErrorCode(20902, 400, "INVALID_ARGUMENT", "invalid profiling parameter");
    static final ErrorCode RECORDING_RUNS = new ErrorCode(30901, 409, "ABORTED", "a recording is already running");
    static final ErrorCode CANNOT_RECORD = new ErrorCode(30902, 503, "UNAVAILABLE", "the JVM cannot record now");

    @Override
    public String type() {
        return "profiling";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(BAD_DURATION, BAD_PARAMETER, RECORDING_RUNS, CANNOT_RECORD);
    }

    @Override
    public Map<String, AdminEndpoint> create(ConfigNode config, PluginContext context) {
        int maxSeconds = config.integer("max-seconds", 300, 1, 3600);
        int heapSeconds = config.integer("heap-seconds", 10, 1, 3600);
        if (heapSeconds > maxSeconds) {
            config.problem("heap-seconds", "must not be longer than max-seconds (" + maxSeconds + "), but was "
                    + heapSeconds);
        }
        Profiling profiling = new Profiling(maxSeconds, Math.min(heapSeconds, maxSeconds));
        return Map.of(
                "/debug/pprof/profile", profiling::cpu,
                "/debug/pprof/heap", profiling::heap,
                "/debug/pprof/goroutine", profiling::goroutines,
                "/debug/jvm/recording", profiling::recording,
                "/debug/jvm/threads", profiling::threads,
                "/debug/jvm/histogram", profiling::histogram);
    }
}
