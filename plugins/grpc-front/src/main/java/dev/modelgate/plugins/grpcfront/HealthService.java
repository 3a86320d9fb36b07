package dev.modelgate.plugins.grpcfront;

import dev.modelgate.spi.front.Pipeline;
import io.grpc.Context;
import io.grpc.Status;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code grpc.health.v1.Health}, answered from the gateway's readiness as it is now: the service {@code ""} is the
 * gateway (serving unless draining), a model's name is that model (serving when its backend is ready, too), any
 * other name NOT_FOUND. Open to every client, as the admin listener's {@code /readyz} is: probes carry no credentials.
 */
final class HealthService extends HealthGrpc.HealthImplBase {

    /** How often a {@code Watch} looks again; backends report readiness without telling anyone it changed. */
    private static final long WATCH_PERIOD_MILLIS = 1000;

    private final Pipeline pipeline;
    private final CountDownLatch draining = new CountDownLatch(1);

    HealthService(Pipeline pipeline) {
        this.pipeline = pipeline;
    }

    /** Every status turns NOT_SERVING, and each {@code Watch} says so and ends: the drain waits for no probe. */
    void drain() {
        draining.countDown();
    }

    /** The status of {@code service}, or {@code null} when the gateway serves no model of that name. */
    private ServingStatus status(String service) {
        boolean ready = pipeline.ready() && draining.getCount() > 0;
        if (service.isEmpty()) {
            return ready ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
        }
        return pipeline.modelReady(service)
                .map(modelReady -> ready && modelReady ? ServingStatus.SERVING : ServingStatus.NOT_SERVING)
                .orElse(null);
    }

    @Override
    public void check(HealthCheckRequest request, StreamObserver<HealthCheckResponse> responses) {
        ServingStatus status = status(request.getService());
        if (status == null) {
            responses.onError(Status.NOT_FOUND.withDescription("unknown service '" + request.getService() + "'")
                    .asRuntimeException());
            return;
        }
        responses.onNext(HealthCheckResponse.newBuilder().setStatus(status).build());
        responses.onCompleted();
    }

    /** Sends the status, then each change, until the client leaves or the gateway drains. */
    @Override
    public void watch(HealthCheckRequest request, StreamObserver<HealthCheckResponse> responses) {
        ServingStatus last = null;
        try {
            while (!Context.current().isCancelled()) {
                ServingStatus status = status(request.getService());
                ServingStatus shown = status == null ? ServingStatus.SERVICE_UNKNOWN : status;
                if (shown != last) {
                    responses.onNext(HealthCheckResponse.newBuilder().setStatus(shown).build());
                    last = shown;
                }
                if (draining.await(WATCH_PERIOD_MILLIS, TimeUnit.MILLISECONDS)) {
                    if (last != ServingStatus.NOT_SERVING && status != null) {
                        responses.onNext(HealthCheckResponse.newBuilder()
                                .setStatus(ServingStatus.NOT_SERVING).build());
                    }
                    responses.onCompleted();
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            responses.onError(Status.UNAVAILABLE.withDescription("the gateway is shutting down").asRuntimeException());
        }
    }
}
