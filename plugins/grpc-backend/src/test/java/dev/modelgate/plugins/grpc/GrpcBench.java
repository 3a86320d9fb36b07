package dev.modelgate.plugins.grpc;

import dev.modelgate.plugins.modelservice.api.ModelServiceGrpc;
import dev.modelgate.plugins.modelservice.api.PredictRequest;
import dev.modelgate.plugins.modelservice.api.PredictResponse;
import io.grpc.CallOptions;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.ClientCalls;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The gRPC rows of {@code scripts/bench}: unary {@code ModelService/Predict} load against several targets, alternated
 * in one run, each row's figures printed with their ratio to a peer measured in the same run ({@code h2load} and
 * {@code wrk} cannot speak gRPC).
 *
 * <p>Load: {@code concurrency} calls always in flight (closed loop: each call's answer sends the next), spread over
 * {@code channels} HTTP/2 connections per target, asynchronous so the client spends little of the shared cores.
 * After one warm-up pass, {@code rounds} rounds run every target once, the starting target moving by one each round;
 * printed per target are the medians over rounds of calls/s, p50 and p99, and their ratios to the peer's. One line
 * {@code modelgate-grpc-bench name=... rps=... p50_us=... p99_us=... errors=...} per run, for scripts.
 *
 * <pre>
 * GrpcBench SECONDS WARMUP_SECONDS ROUNDS CONCURRENCY CHANNELS PEER NAME=HOST:PORT/MODEL...
 * </pre>
 *
 * <p>Every target must first answer one call. Exit status 0; 1 when a target does not answer its first call; 3 when
 * some measured call failed (the table is printed and the rows are flagged).
 */
public final class GrpcBench {

    /** One Iris row, as every row of the REST table sends. */
    private static final List<Float> FEATURES = List.of(5.1f, 3.5f, 1.4f, 0.2f);

    private GrpcBench() {
    }

    record Target(String name, String host, int port, String model) {

        static Target parse(String text) {
            int equals = text.indexOf('=');
            int colon = text.lastIndexOf(':');
            int slash = text.indexOf('/', colon);
            if (equals <= 0 || colon < equals || slash < colon) {
                throw new IllegalArgumentException("a target is NAME=HOST:PORT/MODEL, but was '" + text + "'");
            }
            return new Target(text.substring(0, equals), text.substring(equals + 1, colon),
                    Integer.parseInt(text.substring(colon + 1, slash)), text.substring(slash + 1));
        }
    }

    record Run(double rps, double p50Micros, double p99Micros, long errors) {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 7) {
            System.err.println("usage: GrpcBench SECONDS WARMUP_SECONDS ROUNDS CONCURRENCY CHANNELS PEER "
                    + "NAME=HOST:PORT/MODEL...");
            System.exit(2);
        }
        double seconds = Double.parseDouble(args[0]);
        double warmup = Double.parseDouble(args[1]);
        int rounds = Integer.parseInt(args[2]);
        int concurrency = Integer.parseInt(args[3]);
        int channelCount = Integer.parseInt(args[4]);
        String peer = args[5];
        Map<String, Target> targets = new LinkedHashMap<>();
        for (String text : Arrays.copyOfRange(args, 6, args.length)) {
            Target target = Target.parse(text);
            targets.put(target.name(), target);
        }
        if (!targets.containsKey(peer)) {
            throw new IllegalArgumentException("the peer '" + peer + "' is not among the targets " + targets.keySet());
        }
        Map<String, List<ManagedChannel>> channels = new LinkedHashMap<>();
        targets.values().forEach(target -> channels.put(target.name(), open(target, channelCount)));
        try {
            System.out.printf(Locale.ROOT, "grpc load: %d calls in flight over %d channel(s) per target, %.1fs runs,"
                    + " warm-up %.1fs, %d round(s); peer %s%n", concurrency, channelCount, seconds, warmup, rounds,
                    peer);
            for (Target target : targets.values()) {
                check(target, channels.get(target.name()).getFirst());
            }
            for (Target target : targets.values()) {
                run(target, channels.get(target.name()), concurrency, warmup);
            }
            List<String> names = new ArrayList<>(targets.keySet());
            Map<String, List<Run>> runs = new LinkedHashMap<>();
            names.forEach(name -> runs.put(name, new ArrayList<>()));
            for (int round = 0; round < rounds; round++) {
                for (int k = 0; k < names.size(); k++) {
                    String name = names.get((k + round) % names.size());
                    Run run = run(targets.get(name), channels.get(name), concurrency, seconds);
                    runs.get(name).add(run);
                    System.out.printf(Locale.ROOT, "modelgate-grpc-bench round=%d name=%s rps=%.1f p50_us=%.0f "
                            + "p99_us=%.0f errors=%d%n", round + 1, name, run.rps(), run.p50Micros(),
                            run.p99Micros(), run.errors());
                }
            }
            System.exit(print(names, runs, peer) ? 0 : 3);
        } finally {
            channels.values().forEach(list -> list.forEach(ManagedChannel::shutdownNow));
        }
    }

    private static List<ManagedChannel> open(Target target, int count) {
        List<ManagedChannel> channels = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            channels.add(NettyChannelBuilder.forAddress(target.host(), target.port()).usePlaintext().build());
        }
        return channels;
    }

    /** One call, which must succeed before {@code target} is measured; else the bench stops with status 1. */
    private static void check(Target target, ManagedChannel channel) {
        try {
            PredictResponse answer = ModelServiceGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .predict(request(target));
            if (!answer.hasError()) {
                return;
            }
            System.err.println(target.name() + " answered an error: " + answer.getError());
        } catch (StatusRuntimeException e) {
            System.err.println(target.name() + " (" + target.host() + ":" + target.port() + ") failed: "
                    + e.getStatus().getCode() + " " + e.getStatus().getDescription());
        }
        System.exit(1);
    }

    private static PredictRequest request(Target target) {
        return PredictRequest.newBuilder().setModel(target.model()).addAllFeatures(FEATURES).build();
    }

    /** {@code concurrency} closed loops of Predict calls against {@code target} for {@code seconds}. */
    static Run run(Target target, List<ManagedChannel> channels, int concurrency, double seconds)
            throws InterruptedException {
        PredictRequest request = request(target);
        long start = System.nanoTime();
        long end = start + (long) (seconds * 1e9);
        CountDownLatch done = new CountDownLatch(concurrency);
        AtomicLong errors = new AtomicLong();
        List<Loop> loops = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            Loop loop = new Loop(channels.get(i % channels.size()), request, end, errors, done);
            loops.add(loop);
            loop.next();
        }
        if (!done.await((long) (seconds * 1e9) + TimeUnit.SECONDS.toNanos(30), TimeUnit.NANOSECONDS)) {
            throw new IllegalStateException(target.name() + ": calls still in flight 30s after the run's end");
        }
        double elapsed = (System.nanoTime() - start) / 1e9;
        int total = loops.stream().mapToInt(loop -> loop.count).sum();
        long[] latencies = new long[total];
        int at = 0;
        for (Loop loop : loops) {
            System.arraycopy(loop.latencies, 0, latencies, at, loop.count);
            at += loop.count;
        }
        Arrays.sort(latencies);
        return new Run(total / elapsed, percentile(latencies, 0.50) / 1e3, percentile(latencies, 0.99) / 1e3,
                errors.get());
    }

    private static double percentile(long[] sorted, double quantile) {
        return sorted.length == 0 ? Double.NaN : sorted[(int) Math.min(sorted.length - 1, sorted.length * quantile)];
    }

    /**
     * One call in flight at a time: each answer records its latency and sends the next call, until the run's end.
     * Its fields are written by one call's callback after another, each after the previous one's call completed.
     */
    private static final class Loop implements StreamObserver<PredictResponse> {

        private final ManagedChannel channel;
        private final PredictRequest request;
        private final long end;
        private final AtomicLong errors;
        private final CountDownLatch done;
        private long[] latencies = new long[1024];
        private int count;
        private long sent;

        Loop(ManagedChannel channel, PredictRequest request, long end, AtomicLong errors, CountDownLatch done) {
            this.channel = channel;
            this.request = request;
            this.end = end;
            this.errors = errors;
            this.done = done;
        }

        void next() {
            sent = System.nanoTime();
            if (sent - end >= 0) {
                done.countDown();
                return;
            }
            ClientCalls.asyncUnaryCall(channel.newCall(ModelServiceGrpc.getPredictMethod(), CallOptions.DEFAULT),
                    request, this);
        }

        @Override
        public void onNext(PredictResponse response) {
            if (response.hasError()) {
                errors.incrementAndGet();
            }
        }

        @Override
        public void onError(Throwable failure) {
            if (errors.getAndIncrement() == 0) {
                Status status = Status.fromThrowable(failure);
                System.err.println("first failed call: " + status.getCode() + " " + status.getDescription());
            }
            record();
        }

        @Override
        public void onCompleted() {
            record();
        }

        private void record() {
            if (count == latencies.length) {
                latencies = Arrays.copyOf(latencies, count * 2);
            }
            latencies[count++] = System.nanoTime() - sent;
            next();
        }
    }

    /** Prints the medians and ratios; {@code false} when some row had errors. */
    private static boolean print(List<String> names, Map<String, List<Run>> runs, String peer) {
        Run peerRun = median(runs.get(peer));
        System.out.printf(Locale.ROOT, "%nmedian of %d round(s); ratios against %s (calls/s: higher is better; "
                + "latency: lower is better)%n", runs.get(peer).size(), peer);
        String format = "%-22s %10s %9s %9s %10s %10s %10s  %s%n";
        System.out.printf(Locale.ROOT, format, "target", "calls/s", "p50 ms", "p99 ms", "calls/s÷", "p50÷", "p99÷",
                "errors");
        boolean clean = true;
        for (String name : names) {
            Run run = median(runs.get(name));
            long errors = runs.get(name).stream().mapToLong(Run::errors).sum();
            clean &= errors == 0;
            System.out.printf(Locale.ROOT, format, name, String.format(Locale.ROOT, "%.0f", run.rps()),
                    String.format(Locale.ROOT, "%.3f", run.p50Micros() / 1e3),
                    String.format(Locale.ROOT, "%.3f", run.p99Micros() / 1e3),
                    ratio(run.rps(), peerRun.rps()), ratio(run.p50Micros(), peerRun.p50Micros()),
                    ratio(run.p99Micros(), peerRun.p99Micros()),
                    errors == 0 ? "none" : errors + " failed calls  <-- FLAGGED");
        }
        return clean;
    }

    private static Run median(List<Run> runs) {
        return new Run(median(runs.stream().mapToDouble(Run::rps).toArray()),
                median(runs.stream().mapToDouble(Run::p50Micros).toArray()),
                median(runs.stream().mapToDouble(Run::p99Micros).toArray()), 0);
    }

    private static double median(double[] values) {
        Arrays.sort(values);
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static String ratio(double value, double peer) {
        return peer > 0 ? String.format(Locale.ROOT, "%.2f", value / peer) : "n/a";
    }
}
