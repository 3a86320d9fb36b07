package dev.modelgate.kernel;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.IntFunction;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;

/**
 * Phased steps around a core that completes later: each step's {@code before} in order, then the core, then the
 * {@code after} of every step whose {@code before} let the call go on, in reverse. What {@link RealChain} and
 * {@link FilterChain} do around one blocking call, for middlewares ({@code Response}) and filters
 * ({@code BackendResult}) that never block, without holding a thread while the core works.
 *
 * <p>The phases given here hold their steps to the contract themselves and never throw; the core's stage never
 * fails. So every {@code before} that went on gets its {@code after}, whatever the rest did: a circuit breaker's
 * half-open permit or a bulkhead's place is always given back.
 */
final class Phases {

    /** One step's two phases, already checked: {@code before} returns {@code null} to go on. */
    interface Step<T> {
        T before();

        T after(T value);
    }

    /** A {@code before} as a plugin writes it: it may throw, and returns {@code null} to go on. */
    @FunctionalInterface
    interface Before<T> {
        T run() throws Exception;
    }

    /** An {@code after} as a plugin writes it: it may throw, or return {@code null}, both bugs. */
    @FunctionalInterface
    interface After<T> {
        T run(T value) throws Exception;
    }

    private Phases() {
    }

    /**
     * A plugin's phases held to the contract: what a phase returns passes {@code returned} (which turns {@code null}
     * or an undeclared code into an error), and what it throws becomes {@code thrown}'s answer.
     */
    static <T> Step<T> checked(Before<T> before, After<T> after, UnaryOperator<T> returned,
            Function<Throwable, T> thrown) {
        return new Step<>() {
            @Override
            public T before() {
                try {
                    T early = before.run();
                    return early == null ? null : returned.apply(early);
                } catch (Throwable e) {
                    return thrown.apply(e);
                }
            }

            @Override
            public T after(T value) {
                try {
                    return returned.apply(after.run(value));
                } catch (Throwable e) {
                    return thrown.apply(e);
                }
            }
        };
    }

    /** Runs {@code steps} around {@code core}, which runs only when every {@code before} went on. */
    static <T> CompletionStage<T> around(int count, IntFunction<Step<T>> steps, Supplier<CompletionStage<T>> core) {
        if (count == 0) {
            return core.get(); // nothing to unwind: no stage to add (most backends have no filters)
        }
        @SuppressWarnings("unchecked")
        Step<T>[] entered = new Step[count];
        for (int i = 0; i < count; i++) {
            entered[i] = steps.apply(i);
            T early = entered[i].before();
            if (early != null) {
                return CompletableFuture.completedFuture(unwind(entered, i, early));
            }
        }
        return core.get().thenApply(value -> unwind(entered, count, value));
    }

    /** The {@code after} of the first {@code count} steps, last first. */
    private static <T> T unwind(Step<T>[] steps, int count, T value) {
        for (int i = count - 1; i >= 0; i--) {
            value = steps[i].after(value);
        }
        return value;
    }
}
