package dev.modelgate.kernel;

import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReentrantLock;
import java.util.stream.Collectors;

/**
 * The deployment being served, and the older ones that requests still run on.
 *
 * <p><b>Reference counting, two levels.</b> Each request, stream message and gRPC call takes a lease on the
 * current deployment ({@link #acquire()}) and gives it back when its answer is complete ({@link #release}); the
 * gateway holds one lease more for as long as a deployment is the current one. {@link #swap} makes a new deployment
 * current and gives the gateway's lease on the old one back, so the old one is <i>retired</i> when its last request
 * ends, not before: requests already running finish on it, new ones take the new one. {@link #acquire()} never
 * hands out a deployment whose last lease is gone: it then reads the current one again.
 *
 * <p>Deployments share parts (a backend, a filter or a middleware whose configuration did not change is carried
 * over, with its state) and plugin class loaders (a jar that did not change). So the second level counts, for each
 * part and each jar loader, the deployments not yet retired that hold it: retiring a deployment closes only what no
 * other one holds any more, parts first, then the class loaders their classes came from. Then the request metrics
 * of routes and backends that the current deployment no longer has leave the scrape.
 */
final class LiveDeployment {

    private static final System.Logger LOG = System.getLogger(LiveDeployment.class.getName());

    private final AtomicReference<Deployment> current;
    private final MetricsRegistry metrics;
    /** Per part and jar loader, how many deployments not yet retired hold it. Guarded by {@link #lock}. */
    private final Map<Object, Integer> holders = new IdentityHashMap<>();
    /** A lock, not a monitor: retiring runs on a virtual thread and may block while it closes a part. */
    private final ReentrantLock lock = new ReentrantLock();
    /** Every deployment not yet retired, the current one included: what shutdown closes. */
    private final Set<Deployment> unretired = ConcurrentHashMap.newKeySet();

    LiveDeployment(Deployment first, MetricsRegistry metrics) {
        this.current = new AtomicReference<>(first);
        this.metrics = metrics;
        hold(first);
    }

    /**
     * The deployment being served, without a lease: for what reads settings or routes and holds nothing that a
     * retirement closes (limits, readiness, the admin token).
     */
    Deployment current() {
        return current.get();
    }

    /** The current deployment, with a lease that the caller must {@link #release} once its answer is complete. */
    Deployment acquire() {
        while (true) {
            Deployment deployment = current.get();
            if (deployment.tryAcquire()) {
                return deployment;
            }
        }
    }

    /**
     * Gives back a lease {@link #acquire()} took; the last one of a replaced deployment retires it, on a thread of
     * its own: the last lease is often given back on an IO thread, which closing a backend's pool must not block.
     */
    void release(Deployment deployment) {
        if (deployment.release()) {
            Thread.ofVirtual().name("modelgate-retire").start(() -> retire(deployment));
        }
    }

    /** Serves {@code next} from now on; the deployment it replaces retires once its last request ends. */
    void swap(Deployment next) {
        hold(next);
        release(current.getAndSet(next));
    }

    /**
     * Closes what {@code rejected}, built but never served, opened itself: the parts and jar loaders no served
     * deployment holds.
     */
    void discard(Deployment rejected) {
        lock.lock();
        try {
            closeUnheld(rejected);
        } finally {
            lock.unlock();
        }
    }

    /** Closes every deployment not yet retired, whatever requests still hold them: the gateway stops. */
    void closeAll() {
        Deployment last = current.get();
        for (Deployment deployment : List.copyOf(unretired)) {
            if (deployment != last) {
                retire(deployment);
            }
        }
        retire(last);
    }

    private void hold(Deployment deployment) {
        unretired.add(deployment);
        lock.lock();
        try {
            deployment.parts().forEach(part -> holders.merge(part, 1, Integer::sum));
            deployment.plugins().jarLoaders().forEach(loader -> holders.merge(loader, 1, Integer::sum));
        } finally {
            lock.unlock();
        }
    }

    private void retire(Deployment deployment) {
        if (!unretired.remove(deployment)) {
            return;
        }
        lock.lock();
        try {
            deployment.parts().forEach(part -> holders.merge(part, -1, Integer::sum));
            deployment.plugins().jarLoaders().forEach(loader -> holders.merge(loader, -1, Integer::sum));
            closeUnheld(deployment);
        } finally {
            lock.unlock();
        }
        Deployment served = current.get();
        metrics.retainRequestSeries(
                served.routes().values().stream().flatMap(versions -> versions.values().stream())
                        .map(Route::label).collect(Collectors.toSet()),
                served.backends().keySet());
        LOG.log(System.Logger.Level.DEBUG, "retired a deployment");
    }

    /** Closes the parts, then the jar loaders, of {@code deployment} that no deployment holds. Holds the lock. */
    private void closeUnheld(Deployment deployment) {
        for (Deployment.Part part : deployment.parts().reversed()) {
            if (holders.getOrDefault(part, 0) <= 0) {
                holders.remove(part);
                part.close();
            }
        }
        for (PluginRegistry.JarLoader loader : deployment.plugins().jarLoaders()) {
            if (holders.getOrDefault(loader, 0) <= 0) {
                holders.remove(loader);
                try {
                    loader.close();
                } catch (java.io.IOException e) {
                    LOG.log(System.Logger.Level.WARNING, "closing plugin jar " + loader.jar() + " failed", e);
                }
            }
        }
    }
}
