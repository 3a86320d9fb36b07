package dev.modelgate.plugins.onnx;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.modelgate.spi.BackendException;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.inference.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs one ONNX Runtime session on a small pool of platform threads of its own. {@link OrtSession#run} is a JNI
 * call, and a virtual thread in native code pins its carrier for the whole call: with two carriers, two concurrent
 * runs would starve every other request. So the caller's virtual thread hands the run to the pool and waits for its
 * result, which unmounts it and frees the carrier.
 *
 * <p>Thread-safe: sessions take concurrent runs, and the pool queues runs beyond its size (without a bound: each
 * queued run has a caller waiting on it, so the requests in flight bound the queue). Owns the session and the pool;
 * {@link #close()} closes both.
 */
final class SessionRunner implements AutoCloseable {

    private static final String ORT_MESSAGE_PREFIX = "message: ";
    /** How long {@link #close()} waits for runs abandoned at their deadline to stop before it closes the session. */
    private static final long CLOSE_WAIT_SECONDS = 10;
    private static final AtomicInteger POOLS = new AtomicInteger();

    private final OrtEnvironment environment;
    private final OrtSession session;
    private final ExecutorService pool;
    private final System.Logger logger;

    /**
     * @param threads how many runs may proceed at once
     * @param threadFactory makes the pool's threads, which must be platform threads: see {@link #daemonThreads()}
     */
    SessionRunner(OrtEnvironment environment, OrtSession session, int threads, ThreadFactory threadFactory,
            System.Logger logger) {
        this.environment = environment;
        this.session = session;
        this.pool = Executors.newFixedThreadPool(threads, threadFactory);
        this.logger = logger;
    }

    /**
     * Platform threads named {@code onnx-<pool>-run-<n>}, daemon so that a pool never keeps the process alive: the
     * gateway closes backends when it stops, and a run abandoned at its deadline must not hold up the exit.
     */
    static ThreadFactory daemonThreads() {
        return Thread.ofPlatform().name("onnx-" + POOLS.incrementAndGet() + "-run-", 0).daemon(true).factory();
    }

    /**
     * Runs the model and returns {@code outputs}, in that order. Blocks the calling thread, unmounting a virtual one,
     * until the run ends or {@code deadlineNanos} ({@link System#nanoTime()}; {@link Long#MAX_VALUE} for none) passes.
     *
     * @throws RejectionException with {@link CoreErrors#INPUT_MISMATCH} when ONNX Runtime refuses the inputs (a
     *     symbolic dimension two inputs disagree on, say), with {@link CoreErrors#BACKEND_ERROR} when the model fails
     * @throws BackendException of kind {@link BackendException.Kind#TIMEOUT} when the deadline passes first, of kind
     *     {@link BackendException.Kind#UNAVAILABLE} when the runner is closed or the caller is interrupted
     */
    List<Tensor> run(List<TensorValue> inputs, List<TensorSpec> outputs, long deadlineNanos)
            throws BackendException {
        if (deadlineNanos != Long.MAX_VALUE && deadlineNanos - System.nanoTime() <= 0) {
            throw timeout();
        }
        Run run = new Run(inputs, outputs);
        Future<List<Tensor>> result;
        try {
            result = pool.submit(run::call);
        } catch (RejectedExecutionException e) {
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "the onnx backend is closed", e);
        }
        try {
            return deadlineNanos == Long.MAX_VALUE
                    ? result.get()
                    : result.get(deadlineNanos - System.nanoTime(), TimeUnit.NANOSECONDS);
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        } catch (TimeoutException e) {
            abandon(run, result);
            throw timeout();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            abandon(run, result);
            throw new BackendException(BackendException.Kind.UNAVAILABLE, "interrupted while the model ran", e);
        }
    }

    /**
     * Stops a run nobody waits for any more: a queued one never starts; a running one cannot be interrupted (a thread
     * in native code ignores interrupts) but stops at ONNX Runtime's next operator boundary once its terminate flag
     * is set, so an abandoned run frees its thread soon, though a single long operator still runs to its end.
     */
    private static void abandon(Run run, Future<?> result) {
        result.cancel(false);
        run.terminate();
    }

    private static BackendException timeout() {
        return new BackendException(BackendException.Kind.TIMEOUT, "the model did not answer before the deadline",
                null);
    }

    private RuntimeException failure(Throwable cause) {
        if (cause instanceof OrtException e) {
            if (e.getCode() == OrtException.OrtErrorCode.ORT_INVALID_ARGUMENT) {
                return new RejectionException(CoreErrors.INPUT_MISMATCH, runtimeDetail(e));
            }
            logger.log(System.Logger.Level.WARNING, "model run failed: " + e.getMessage());
        } else if (cause instanceof Error error) {
            throw error;
        } else {
            logger.log(System.Logger.Level.WARNING, "model run failed", cause);
        }
        return new RejectionException(CoreErrors.BACKEND_ERROR, "the model failed to run");
    }

    /** ONNX Runtime's own explanation, without its "Error code - ORT_... - message:" preamble. */
    private static String runtimeDetail(OrtException e) {
        String message = String.valueOf(e.getMessage());
        int start = message.indexOf(ORT_MESSAGE_PREFIX);
        return (start < 0 ? message : message.substring(start + ORT_MESSAGE_PREFIX.length())).strip();
    }

    /**
     * Closes the pool, then the session once no run uses it: closing a session under a running model would crash
     * the process, so after {@link #CLOSE_WAIT_SECONDS} with a run still going the session is left open (and
     * logged) instead. Called once, after the callers have returned.
     */
    @Override
    public void close() {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(CLOSE_WAIT_SECONDS, TimeUnit.SECONDS)) {
                logger.log(System.Logger.Level.WARNING, "a model run abandoned at its deadline is still going;"
                        + " leaving its session open");
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            logger.log(System.Logger.Level.WARNING, "interrupted while model runs finished; leaving the session open");
            return;
        }
        try {
            session.close();
        } catch (OrtException e) {
            logger.log(System.Logger.Level.WARNING, "closing the model session failed: " + e.getMessage());
        }
    }

    /**
     * One run, on a pool thread. It owns its native objects (input tensors, result, run options) and closes them
     * itself, since its caller may have left at the deadline. The lock orders {@link #terminate()}, called from the
     * caller's thread, against the run options' creation and closing.
     */
    private final class Run {

        private final List<TensorValue> inputs;
        private final List<TensorSpec> outputs;
        private final ReentrantLock lock = new ReentrantLock();
        private OrtSession.RunOptions options;
        private boolean terminated;

        Run(List<TensorValue> inputs, List<TensorSpec> outputs) {
            this.inputs = inputs;
            this.outputs = outputs;
        }

        List<Tensor> call() throws OrtException {
            if (!start()) {
                return List.of(); // abandoned before it started: nobody reads the result
            }
            Map<String, OnnxTensor> tensors = new LinkedHashMap<>();
            try {
                for (TensorValue input : inputs) {
                    tensors.put(input.name(), OnnxTensor.createTensor(
                            environment, input.data(), input.shape(), input.type().javaType()));
                }
                Set<String> names = new LinkedHashSet<>();
                outputs.forEach(output -> names.add(output.name()));
                try (OrtSession.Result result = session.run(tensors, names, options)) {
                    List<Tensor> values = new ArrayList<>(outputs.size());
                    for (TensorSpec output : outputs) {
                        OnnxTensor tensor = (OnnxTensor) result.get(output.name()).orElseThrow();
                        values.add(TensorBuffers.fromNative(output.name(), output.type(),
                                tensor.getInfo().getShape(), tensor.getByteBuffer()));
                    }
                    return values;
                }
            } finally {
                OnnxValue.close(tensors);
                finish();
            }
        }

        private boolean start() throws OrtException {
            lock.lock();
            try {
                if (!terminated) {
                    options = new OrtSession.RunOptions();
                }
                return !terminated;
            } finally {
                lock.unlock();
            }
        }

        private void finish() {
            lock.lock();
            try {
                options.close();
                options = null;
            } finally {
                lock.unlock();
            }
        }

        void terminate() {
            lock.lock();
            try {
                terminated = true;
                if (options != null) {
                    options.setTerminate(true);
                }
            } catch (OrtException e) {
                logger.log(System.Logger.Level.WARNING, "could not stop an abandoned model run: " + e.getMessage());
            } finally {
                lock.unlock();
            }
        }
    }
}
