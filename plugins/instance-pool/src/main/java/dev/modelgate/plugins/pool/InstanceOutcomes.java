package dev.modelgate.plugins.pool;

import dev.modelgate.spi.Metrics;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.function.LongSupplier;

/**
 * What a backend's instances did with its calls: how many are in flight (what {@code least-outstanding} balances on),
 * how many were made and failed, and the passive ejections those failures bring. A call is counted from
 * {@link #started} to {@link #ended}: for a streamed answer, to the stream's end.
 *
 * <p>Thread-safety: called concurrently from many virtual threads and from the watchdog's; lock-free but for the
 * outlier detector's brief ejection decision.
 */
public final class InstanceOutcomes {

    private final String backend;
    private final OutlierDetectionSettings ejection;
    private final System.Logger log;
    private final OutlierDetector outlierDetector;
    private final AtomicIntegerArray inFlight;
    private final Metrics.Counter[] requests;
    private final Metrics.Counter[] failures;
    private final Metrics.Counter[] ejections;

    /**
     * @param backend the backend's configured name, for metric labels and logs
     * @param inFlight by instance index, the calls under way: counted here, read by the balancer too
     * @param nanoTime the monotonic time ejections are measured by, in nanoseconds
     */
    InstanceOutcomes(String backend, List<Instance> instances, AtomicIntegerArray inFlight,
            OutlierDetectionSettings ejection, Metrics metrics, System.Logger log, LongSupplier nanoTime) {
        this.backend = backend;
        this.ejection = ejection;
        this.log = log;
        int count = instances.size();
        this.outlierDetector = new OutlierDetector(ejection, count, nanoTime);
        this.inFlight = inFlight;
        this.requests = new Metrics.Counter[count];
        this.failures = new Metrics.Counter[count];
        this.ejections = new Metrics.Counter[count];
        for (Instance instance : instances) {
            Map<String, String> labels = Map.of("backend", backend, "instance", instance.name());
            int index = instance.index();
            requests[index] = metrics.counter("modelgate_backend_instance_requests_total",
                    "Calls made to a backend instance, retries included.", labels);
            failures[index] = metrics.counter("modelgate_backend_instance_failures_total",
                    "Calls to a backend instance that failed: no connection, no answer in time, broken, or 5xx.",
                    labels);
            ejections[index] = metrics.counter("modelgate_backend_instance_ejections_total",
                    "Times a backend instance was ejected after consecutive failures.", labels);
            metrics.gauge("modelgate_backend_instance_in_flight",
                    "Calls to a backend instance under way, a streamed answer's until its stream ends.", labels,
                    () -> inFlight.get(index));
        }
    }

    public boolean ejected(int index) {
        return outlierDetector.ejected(index);
    }

    /** A call to {@code instance} begins. */
    public void started(Instance instance) {
        requests[instance.index()].increment();
        inFlight.incrementAndGet(instance.index());
    }

    /** A call that {@link #started} is over, whatever its outcome; once per call. */
    public void ended(Instance instance) {
        inFlight.decrementAndGet(instance.index());
    }

    /** The instance answered, or passed its whole stream on. */
    public void succeeded(Instance instance) {
        outlierDetector.recordSuccess(instance.index());
    }

    /** The instance failed the call: counted, and it may be ejected for it. */
    public void failed(Instance instance) {
        failures[instance.index()].increment();
        long ejectedFor = outlierDetector.recordFailure(instance.index());
        if (ejectedFor > 0) {
            ejections[instance.index()].increment();
            log.log(System.Logger.Level.WARNING, () -> "backend '" + backend + "': instance " + instance.name()
                    + " ejected for " + TimeUnit.NANOSECONDS.toMillis(ejectedFor) + "ms after "
                    + ejection.consecutiveFailures() + " consecutive failures");
        }
    }
}
