package dev.modelgate.kernel;

import dev.modelgate.spi.BackendCall;
import dev.modelgate.spi.BackendChain;
import dev.modelgate.spi.BackendResult;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.PhasedFilter;
import dev.modelgate.spi.RejectionException;
import java.util.List;

/**
 * Walks a backend's filters by index, as {@link RealChain} walks middlewares, and holds each to the contract: a
 * result, at most one {@code proceed} (unless the filter repeats it), no exception. A broken contract becomes a
 * failed result naming the filter; the stack trace goes to the log.
 */
final class FilterChain implements BackendChain {

    private static final System.Logger LOG = System.getLogger(FilterChain.class.getName());

    /** The backend itself, after the last filter. */
    @FunctionalInterface
    interface Backend {
        BackendResult call(BackendCall call);
    }

    private final List<FilterStep> steps;
    private final int index;
    private final Backend backend;
    private int calls;

    private FilterChain(List<FilterStep> steps, int index, Backend backend) {
        this.steps = steps;
        this.index = index;
        this.backend = backend;
    }

    /** Runs {@code call} through every filter to {@code backend}; never throws, never returns {@code null}. */
    static BackendResult run(List<FilterStep> steps, BackendCall call, Backend backend) {
        return new FilterChain(steps, 0, backend).runHere(call);
    }

    @Override
    public BackendResult proceed(BackendCall call) {
        if (++calls > 1 && !steps.get(index - 1).repeatsProceed()) {
            return BackendResult.failed(CoreErrors.MIDDLEWARE_CONTRACT,
                    steps.get(index - 1).describe() + " called proceed() more than once");
        }
        return new FilterChain(steps, index, backend).runHere(call);
    }

    private BackendResult runHere(BackendCall call) {
        if (index == steps.size()) {
            return backend.call(call);
        }
        FilterStep step = steps.get(index);
        try {
            return returned(step, step.filter().filter(call, new FilterChain(steps, index + 1, backend)));
        } catch (Throwable e) {
            return thrown(step, e);
        }
    }

    /** The two phases of {@code step}, a {@link PhasedFilter}, over {@code call}, held to the contract. */
    static Phases.Step<BackendResult> phases(FilterStep step, BackendCall call) {
        PhasedFilter phased = (PhasedFilter) step.filter();
        return Phases.checked(() -> phased.before(call), result -> phased.after(call, result),
                result -> returned(step, result), e -> thrown(step, e));
    }

    /** The result for what {@code step} threw: its rejection as a failure, else a bug's. */
    static BackendResult thrown(FilterStep step, Throwable e) {
        if (e instanceof RejectionException rejection) {
            return returned(step, BackendResult.failed(rejection.errorCode(), rejection.getMessage()));
        }
        RealChain.rethrowFatal(e);
        LOG.log(System.Logger.Level.ERROR, step.describe() + " threw", e);
        return BackendResult.failed(CoreErrors.INTERNAL, step.describe() + " failed");
    }

    /** {@code result} as {@code step} returned it, or the contract's failure when it is none or undeclared. */
    static BackendResult returned(FilterStep step, BackendResult result) {
        if (result == null) {
            return BackendResult.failed(CoreErrors.MIDDLEWARE_CONTRACT, step.describe() + " returned no result");
        }
        String undeclared = result.error() == null ? null : step.undeclared(result.error().code());
        return undeclared != null ? BackendResult.failed(CoreErrors.MIDDLEWARE_CONTRACT, undeclared) : result;
    }
}
