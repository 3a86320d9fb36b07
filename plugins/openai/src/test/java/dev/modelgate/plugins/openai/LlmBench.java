package dev.modelgate.plugins.openai;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The LLM rows of {@code scripts/bench}: OpenAI chat completions against several targets, alternated in one run,
 * each compared with a peer measured in the same run (the stand-in upstream called directly). Two loads per target
 * and round, each for {@code SECONDS}: non-streamed completions (completions per second, p50 and p99 latency) and
 * streamed ones (time to first token: from sending the request to the first chunk of the event stream, p50 and p99).
 *
 * <p>Load: {@code CONCURRENCY} calls always in flight (closed loop), one keep-alive HTTP/1.1 connection and one
 * platform thread each, written and read with plain blocking sockets, so the client adds little and the same to
 * every target. After one warm-up pass, {@code rounds} rounds run every target once, the starting target moving by
 * one each round; printed per target are the medians over rounds. The last lines say, for each other target, what
 * it adds to the peer's TTFT p99, and whether that is at most {@code TTFT_BUDGET_MS} ("met" / "not met").
 *
 * <pre>
 * LlmBench SECONDS WARMUP_SECONDS ROUNDS CONCURRENCY TTFT_BUDGET_MS PEER NAME=BASE_URL...
 * </pre>
 *
 * <p>A base URL is where the OpenAI paths go under ({@code http://127.0.0.1:8080/openai/v1}). Exit status 0; 1 when a
 * target does not answer its first call; 3 when some measured call failed (the table is printed, the rows flagged).
 */
public final class LlmBench {

    private static final String CHAT = "{\"model\":\"bench\",\"messages\":[{\"role\":\"user\",\"content\":"
            + "\"Say hello\"}],\"max_tokens\":16";

    private LlmBench() {
    }

    /** One run's figures: calls per second and latency percentiles in milliseconds. */
    private record Run(double perSecond, double p50, double p99, long errors) {
    }

    public static void main(String[] args) throws Exception {
        int seconds = Integer.parseInt(args[0]);
        int warmup = Integer.parseInt(args[1]);
        int rounds = Integer.parseInt(args[2]);
        int concurrency = Integer.parseInt(args[3]);
        double budgetMillis = Double.parseDouble(args[4]);
        String peer = args[5];
        Map<String, URI> targets = new LinkedHashMap<>();
        for (int i = 6; i < args.length; i++) {
            int equals = args[i].indexOf('=');
            targets.put(args[i].substring(0, equals), URI.create(args[i].substring(equals + 1)));
        }
        for (Map.Entry<String, URI> target : targets.entrySet()) {
            try (Client client = new Client(target.getValue())) {
                client.call(false);
                client.call(true);
            } catch (IOException e) {
                System.err.println("llm bench: " + target.getKey() + " (" + target.getValue() + ") does not answer: "
                        + e.getMessage());
                System.exit(1);
            }
        }
        List<String> names = new ArrayList<>(targets.keySet());
        System.out.println("LLM: warm-up " + String.join(" ", names) + ", " + warmup + " s each way");
        for (String name : names) {
            load(targets.get(name), false, warmup, concurrency);
            load(targets.get(name), true, warmup, concurrency);
        }
        Map<String, List<Run>> completions = new LinkedHashMap<>();
        Map<String, List<Run>> streams = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (int k = 0; k < names.size(); k++) {
                String name = names.get((k + round) % names.size());
                Run completion = load(targets.get(name), false, seconds, concurrency);
                Run stream = load(targets.get(name), true, seconds, concurrency);
                completions.computeIfAbsent(name, key -> new ArrayList<>()).add(completion);
                streams.computeIfAbsent(name, key -> new ArrayList<>()).add(stream);
                System.out.printf(Locale.ROOT, "llm round %d/%d  %-13s %9.0f completions/s  p99 %7.3f ms  TTFT p50 "
                        + "%7.3f ms  p99 %7.3f ms%s%n", round + 1, rounds, name, completion.perSecond(),
                        completion.p99(), stream.p50(), stream.p99(),
                        completion.errors() + stream.errors() == 0 ? "" : "  ERRORS: "
                                + (completion.errors() + stream.errors()));
            }
        }
        System.out.println();
        System.out.println("LLM: chat completions at " + concurrency + " concurrent calls, median of " + rounds
                + " round(s); streamed: time to first token (TTFT)");
        String format = "%-13s %14s %9s %9s %12s %12s %10s  %s%n";
        System.out.printf(Locale.ROOT, format, "target", "completions/s", "p50 ms", "p99 ms", "TTFT p50 ms",
                "TTFT p99 ms", "c/s÷" + peer.replace("llm-", ""), "errors");
        boolean failed = false;
        double peerRate = median(completions.get(peer), Run::perSecond);
        for (String name : names) {
            long errors = completions.get(name).stream().mapToLong(Run::errors).sum()
                    + streams.get(name).stream().mapToLong(Run::errors).sum();
            failed |= errors > 0;
            System.out.printf(Locale.ROOT, format, name, String.format(Locale.ROOT, "%.0f",
                    median(completions.get(name), Run::perSecond)),
                    String.format(Locale.ROOT, "%.3f", median(completions.get(name), Run::p50)),
                    String.format(Locale.ROOT, "%.3f", median(completions.get(name), Run::p99)),
                    String.format(Locale.ROOT, "%.3f", median(streams.get(name), Run::p50)),
                    String.format(Locale.ROOT, "%.3f", median(streams.get(name), Run::p99)),
                    String.format(Locale.ROOT, "%.2f", median(completions.get(name), Run::perSecond) / peerRate),
                    errors == 0 ? "none" : errors + "  <-- FLAGGED");
        }
        double peerTtft = median(streams.get(peer), Run::p99);
        for (String name : names) {
            if (!name.equals(peer)) {
                double added = median(streams.get(name), Run::p99) - peerTtft;
                System.out.printf(Locale.ROOT, "%s adds %.3f ms to the time to first token at p99 at %d concurrent "
                        + "streams (target at most %s ms): %s%n", name, added, concurrency,
                        new java.math.BigDecimal(Double.toString(budgetMillis)).stripTrailingZeros().toPlainString(),
                        added <= budgetMillis ? "met" : "not met");
            }
        }
        System.exit(failed ? 3 : 0);
    }

    private static double median(List<Run> runs, java.util.function.ToDoubleFunction<Run> figure) {
        double[] values = runs.stream().mapToDouble(figure).sorted().toArray();
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    /**
     * {@code concurrency} closed loops of calls for {@code seconds}: their rate and latency percentiles (for streams,
     * of the time to first token).
     */
    private static Run load(URI base, boolean stream, int seconds, int concurrency) throws InterruptedException {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        AtomicLong errors = new AtomicLong();
        List<long[]> samples = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < concurrency; i++) {
            long[][] mine = {new long[1024]};
            int[] count = {0};
            Thread thread = Thread.ofPlatform().start(() -> {
                Client client = null;
                while (System.nanoTime() < end) {
                    try {
                        if (client == null) {
                            client = new Client(base);
                        }
                        long nanos = client.call(stream);
                        if (count[0] == mine[0].length) {
                            mine[0] = Arrays.copyOf(mine[0], count[0] * 2);
                        }
                        mine[0][count[0]++] = nanos;
                    } catch (IOException e) {
                        errors.incrementAndGet();
                        client = closeQuietly(client);
                    }
                }
                closeQuietly(client);
                synchronized (samples) {
                    samples.add(Arrays.copyOf(mine[0], count[0]));
                }
            });
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        long[] all = samples.stream().flatMapToLong(Arrays::stream).sorted().toArray();
        if (all.length == 0) {
            return new Run(0, Double.NaN, Double.NaN, errors.get());
        }
        return new Run(all.length / (double) seconds, all[(int) (all.length * 0.50)] / 1e6,
                all[Math.min(all.length - 1, (int) Math.ceil(all.length * 0.99) - 1)] / 1e6, errors.get());
    }

    private static Client closeQuietly(Client client) {
        if (client != null) {
            client.close();
        }
        return null;
    }

    /** One keep-alive HTTP/1.1 connection that posts chat completions and reads their answers in full. */
    private static final class Client implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final byte[] plain;
        private final byte[] streamed;

        Client(URI base) throws IOException {
            socket = new Socket(base.getHost(), base.getPort());
            socket.setTcpNoDelay(true);
            socket.setSoTimeout(30_000);
            in = new BufferedInputStream(socket.getInputStream(), 16384);
            out = socket.getOutputStream();
            String path = base.getPath() + "/chat/completions";
            plain = request(base, path, CHAT + "}");
            streamed = request(base, path, CHAT + ",\"stream\":true}");
        }

        private static byte[] request(URI base, String path, String body) {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            return ("POST " + path + " HTTP/1.1\r\nHost: " + base.getHost() + ":" + base.getPort()
                    + "\r\nContent-Type: application/json\r\nAccept: " + (body.contains("\"stream\"")
                    ? "text/event-stream" : "application/json") + "\r\nContent-Length: " + bytes.length
                    + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8);
        }

        /**
         * One call, read to its end: the nanoseconds from sending it to its whole answer, or for a stream to the
         * first chunk of its body (its first event).
         */
        long call(boolean stream) throws IOException {
            long start = System.nanoTime();
            out.write(stream ? streamed : plain);
            out.flush();
            String status = line();
            if (!status.startsWith("HTTP/1.1 200")) {
                throw new IOException("answered " + status);
            }
            long length = -1;
            boolean chunked = false;
            for (String header = line(); !header.isEmpty(); header = line()) {
                String lower = header.toLowerCase(Locale.ROOT);
                if (lower.startsWith("content-length:")) {
                    length = Long.parseLong(lower.substring(15).strip());
                } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
                    chunked = true;
                }
            }
            if (!chunked) {
                if (length < 0) {
                    throw new IOException("an answer without a length");
                }
                in.skipNBytes(length);
                return System.nanoTime() - start;
            }
            long firstChunk = 0;
            for (int size = Integer.parseInt(line().split(";", 2)[0].strip(), 16); size > 0;
                    size = Integer.parseInt(line().split(";", 2)[0].strip(), 16)) {
                if (firstChunk == 0) {
                    firstChunk = System.nanoTime();
                }
                in.skipNBytes(size + 2);
            }
            // The last chunk's empty trailer line.
            line();
            return (stream ? firstChunk : System.nanoTime()) - start;
        }

        private String line() throws IOException {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
            for (int next = in.read(); next != '\n'; next = in.read()) {
                if (next < 0) {
                    throw new IOException("the connection closed");
                }
                if (next != '\r') {
                    bytes.write(next);
                }
            }
            return bytes.toString(StandardCharsets.US_ASCII);
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
    }
}
