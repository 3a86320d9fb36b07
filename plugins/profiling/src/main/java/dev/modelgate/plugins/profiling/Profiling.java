package dev.modelgate.plugins.profiling;

import dev.modelgate.spi.Response;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.admin.AdminRequest;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Objects;
import java.util.regex.Pattern;
import javax.management.JMException;
import javax.management.ObjectName;

/** The endpoints: each checks its parameters, then records, dumps or converts. */
final class Profiling {

    /** Go's own default for {@code /debug/pprof/profile} without {@code seconds}. */
    private static final int CPU_SECONDS = 30;
    private static final Pattern WHOLE_NUMBER = Pattern.compile("[0-9]{1,9}");
    private static final DateTimeFormatter FILE_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss");
    private static final String OCTETS = "application/octet-stream";

    private final int maxSeconds;
    private final int heapSeconds;

    Profiling(int maxSeconds, int heapSeconds) {
        this.maxSeconds = maxSeconds;
        this.heapSeconds = heapSeconds;
    }

    /** CPU samples of {@code seconds} (30), as Go's CPU profile. */
    Response cpu(AdminRequest request) throws Exception {
        Duration duration = seconds(request, CPU_SECONDS);
        return pprof(Pprof.cpu(Recorder.record(Recorder.CPU_SAMPLES, duration)), "profile");
    }

    /** Allocation samples of {@code seconds} ({@code heap-seconds}), weighed in bytes. */
    Response heap(AdminRequest request) throws Exception {
        Duration duration = seconds(request, heapSeconds);
        return pprof(Pprof.allocations(Recorder.record(Recorder.ALLOCATION_SAMPLES, duration)), "heap");
    }

    /** Every thread's stack, virtual threads included: pprof ({@code debug=0}) or text ({@code debug=2}). */
    Response goroutines(AdminRequest request) throws Exception {
        String debug = request.parameter("debug");
        if (debug == null || debug.equals("0")) {
            return pprof(GoroutineProfile.of(ThreadDump.threads()), "goroutine");
        }
        if (debug.equals("2")) {
            return Response.of(200, "text/plain; charset=utf-8",
                    ThreadDump.text(ThreadDump.threads()).getBytes(StandardCharsets.UTF_8));
        }
        throw new RejectionException(ProfilingProvider.BAD_PARAMETER,
                "debug is 0 (pprof, the default) or 2 (text)");
    }

    /** A JFR recording of {@code seconds} (30) with the JDK's {@code default} or {@code profile} settings. */
    Response recording(AdminRequest request) throws Exception {
        String settings = Objects.requireNonNullElse(request.parameter("settings"), "default");
        if (!settings.equals("default") && !settings.equals("profile")) {
            throw new RejectionException(ProfilingProvider.BAD_PARAMETER,
                    "settings is default (the JDK's, for always-on use) or profile (more detail, more cost)");
        }
        Duration duration = seconds(request, CPU_SECONDS);
        byte[] recording = Recorder.record(jdk.jfr.Configuration.getConfiguration(settings).getSettings(), duration);
        String file = "modelgate-" + FILE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC)) + ".jfr";
        return Response.of(200, OCTETS, recording)
                .withHeader("Content-Disposition", "attachment; filename=\"" + file + "\"");
    }

    /** The JDK's thread dump in JSON ({@code HotSpotDiagnosticMXBean.dumpThreads}), virtual threads included. */
    Response threads(AdminRequest request) throws Exception {
        return Response.of(200, "application/json", ThreadDump.json().getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The heap histogram of {@code jcmd GC.class_histogram}: live objects after a full collection (a pause), or with
     * {@code all=true} every object, reachable or not, without one.
     */
    Response histogram(AdminRequest request) throws JMException {
        String all = request.parameter("all");
        if (all != null && !all.equals("true") && !all.equals("false")) {
            throw new RejectionException(ProfilingProvider.BAD_PARAMETER, "all is true or false");
        }
        String[] arguments = "true".equals(all) ? new String[] {"-all"} : new String[0];
        String histogram = (String) ManagementFactory.getPlatformMBeanServer().invoke(
                new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                new Object[] {arguments}, new String[] {String[].class.getName()});
        return Response.of(200, "text/plain; charset=utf-8", histogram.getBytes(StandardCharsets.UTF_8));
    }

    /** {@code seconds}: a whole number from 1 to {@code max-seconds}; {@code byDefault} (capped) when absent. */
    private Duration seconds(AdminRequest request, int byDefault) {
        String seconds = request.parameter("seconds");
        if (seconds == null) {
            return Duration.ofSeconds(Math.min(byDefault, maxSeconds));
        }
        if (!WHOLE_NUMBER.matcher(seconds).matches() || Integer.parseInt(seconds) < 1
                || Integer.parseInt(seconds) > maxSeconds) {
            throw new RejectionException(ProfilingProvider.BAD_DURATION, "seconds is a whole number from 1 to "
                    + maxSeconds + " (admin.profiling.max-seconds)");
        }
        return Duration.ofSeconds(Integer.parseInt(seconds));
    }

    /** A gzipped profile.proto as Go's net/http/pprof serves one. */
    private static Response pprof(byte[] profile, String name) {
        return Response.of(200, OCTETS, profile)
                .withHeader("Content-Disposition", "attachment; filename=\"" + name + "\"");
    }
}
