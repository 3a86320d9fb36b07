package dev.modelgate.dist;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The packaged {@code target/gateway.jar} run as its own process, the way operators run it. */
final class GatewayProcess implements AutoCloseable {

    static final Path JAR = Path.of(System.getProperty("modelgate.jar", "../../target/gateway.jar")).toAbsolutePath();
    private static final Pattern LISTENING = Pattern.compile("on port (\\d+), admin on [^ ]+:(\\d+)");

    /** A finished command: exit code and what it printed. */
    record Result(int exitCode, String out, String err) {
    }

    private final Process process;
    private final LinkedBlockingQueue<String> errLines = new LinkedBlockingQueue<>();
    private final List<String> errSeen = new ArrayList<>();
    private final Thread errReader;
    private int port;
    private int adminPort;

    private GatewayProcess(Process process) {
        this.process = process;
        this.errReader = Thread.ofVirtual().start(() -> {
            try (BufferedReader reader = process.errorReader(StandardCharsets.UTF_8)) {
                reader.lines().forEach(errLines::add);
            } catch (IOException | java.io.UncheckedIOException e) {
                // the process ended, and its stream was closed under the reader
            }
        });
    }

    /** The {@code java} of the JDK running the tests. */
    static final Path CURRENT_JAVA = Path.of(System.getProperty("java.home"), "bin", "java");

    private static ProcessBuilder java(Path workingDir, Map<String, String> environment, String... args) {
        return java(CURRENT_JAVA, workingDir, environment, args);
    }

    private static ProcessBuilder java(Path java, Path workingDir, Map<String, String> environment, String... args) {
        List<String> command = new ArrayList<>(List.of(java.toString(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(workingDir.toFile());
        builder.environment().putAll(environment);
        return builder;
    }

    /** Runs a command that ends by itself ({@code version}, {@code validate}, ...). */
    static Result run(Path workingDir, Map<String, String> environment, String... args) throws Exception {
        return runWith(CURRENT_JAVA, workingDir, environment, args);
    }

    /** Runs a command that ends by itself with the {@code java} executable given. */
    static Result runWith(Path java, Path workingDir, Map<String, String> environment, String... args)
            throws Exception {
        Process process = java(java, workingDir, environment, args).start();
        CompletableFuture<String> out = CompletableFuture.supplyAsync(() -> read(process.inputReader()));
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> read(process.errorReader()));
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("gateway " + String.join(" ", args) + " did not finish");
        }
        return new Result(process.exitValue(), out.get(), err.get());
    }

    private static String read(BufferedReader reader) {
        StringBuilder text = new StringBuilder();
        reader.lines().forEach(line -> text.append(line).append('\n'));
        return text.toString();
    }

    /** Starts serving on free ports and waits until it says where it listens. */
    static GatewayProcess serve(Path workingDir, Map<String, String> environment, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--port", "0", "--admin-port", "0"));
        if (!all.contains("--grpc-port")) {
            // The shipped configuration's gRPC port is fixed (8081); tests that call it choose a free one.
            all.addAll(List.of("--grpc-port", "0"));
        }
        GatewayProcess gateway = new GatewayProcess(java(workingDir, environment, all.toArray(String[]::new))
                .start());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (gateway.port == 0) {
            String line = gateway.errLines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                gateway.close();
                throw new AssertionError("gateway did not start; it printed:\n" + String.join("\n", gateway.errSeen));
            }
            gateway.errSeen.add(line);
            Matcher matcher = LISTENING.matcher(line);
            if (matcher.find()) {
                gateway.port = Integer.parseInt(matcher.group(1));
                gateway.adminPort = Integer.parseInt(matcher.group(2));
            }
        }
        return gateway;
    }

    int port() {
        return port;
    }

    int adminPort() {
        return adminPort;
    }

    /** Sends SIGTERM and returns the exit code. */
    int terminate() throws InterruptedException {
        sigterm();
        return awaitExit();
    }

    /** Sends SIGHUP (a reload), as systemd's {@code ExecReload} does, and returns at once. */
    void sighup() throws Exception {
        Process kill = new ProcessBuilder("kill", "-HUP", Long.toString(process.pid())).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new AssertionError("kill -HUP " + process.pid() + " failed");
        }
    }

    /** Whether the process still runs. */
    boolean alive() {
        return process.isAlive();
    }

    /** Waits for a line on stderr that contains {@code text}, up to 30 s; returns it. */
    String awaitErrLine(String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            String line = errLines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line == null) {
                throw new AssertionError("no line with '" + text + "' on stderr; it printed:\n"
                        + String.join("\n", errSeen));
            }
            errSeen.add(line);
            if (line.contains(text)) {
                return line;
            }
        }
    }

    /** Sends SIGTERM and returns at once. */
    void sigterm() {
        process.destroy();
    }

    /** Waits for the process to end and returns its exit code. */
    int awaitExit() throws InterruptedException {
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("gateway did not stop within 30 s of SIGTERM");
        }
        return process.exitValue();
    }

    /** Everything the process wrote on stderr, once it has ended ({@link #terminate}). */
    List<String> stderr() throws InterruptedException {
        if (!errReader.join(java.time.Duration.ofSeconds(10))) {
            throw new AssertionError("stderr still open 10 s after the gateway ended");
        }
        errLines.drainTo(errSeen);
        return List.copyOf(errSeen);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
