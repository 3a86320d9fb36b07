package dev.modelgate.kernel;

import dev.modelgate.spi.Chain;
import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.RejectionException;
import dev.modelgate.spi.Response;
import java.util.List;

/**
 * Walks a route's steps by index, as OkHttp's real interceptor chain does, and checks each middleware's contract: it
 * must return a response, call {@link #proceed()} at most once, and not throw. A broken contract becomes an error
 * response naming the middleware; the stack trace goes to the log, never to the client.
 */
final class RealChain implements Chain {

    private static final System.Logger LOG = System.getLogger(RealChain.class.getName());

    /** What the pipeline ends in: a backend call or one of the kernel's own answers. */
    @FunctionalInterface
    interface Terminal {
        Response serve(Exchange exchange) throws Exception;
    }

    private final List<Step> steps;
    private final int index;
    private final RealExchange exchange;
    private final Terminal terminal;
    private int calls;

    private RealChain(List<Step> steps, int index, RealExchange exchange, Terminal terminal) {
        this.steps = steps;
        this.index = index;
        this.exchange = exchange;
        this.terminal = terminal;
    }

    /** Runs the whole pipeline; never throws and never returns {@code null}. */
    static Response run(List<Step> steps, RealExchange exchange, Terminal terminal) {
        return new RealChain(steps, 0, exchange, terminal).runHere();
    }

    @Override
    public Exchange exchange() {
        return exchange;
    }

    @Override
    public Response proceed() {
        if (++calls > 1 && !steps.get(index - 1).repeatsProceed()) {
            return exchange.error(CoreErrors.MIDDLEWARE_CONTRACT,
                    steps.get(index - 1).describe() + " called proceed() more than once");
        }
        return new RealChain(steps, index, exchange, terminal).runHere();
    }

    private Response runHere() {
        if (index == steps.size()) {
            return serveTerminal();
        }
        Step step = steps.get(index);
        RealChain next = new RealChain(steps, index + 1, exchange, terminal);
        Response response;
        try {
            response = step.middleware().handle(exchange, next);
        } catch (Throwable e) {
            return thrown(step, exchange, e);
        }
        if (next.calls > 1 && !step.repeatsProceed()) {
            return exchange.error(CoreErrors.MIDDLEWARE_CONTRACT,
                    step.describe() + " called proceed() " + next.calls + " times");
        }
        return returned(step, exchange, response);
    }

    /** The two phases of {@code step}, a {@link PhasedMiddleware}, over {@code exchange}, held to the contract. */
    static Phases.Step<Response> phases(Step step, Exchange exchange) {
        PhasedMiddleware phased = (PhasedMiddleware) step.middleware();
        return Phases.checked(() -> phased.before(exchange), response -> phased.after(exchange, response),
                response -> returned(step, exchange, response), e -> thrown(step, exchange, e));
    }

    /** The answer for what {@code step} threw: its rejection's error if the code is declared, else a bug's. */
    static Response thrown(Step step, Exchange exchange, Throwable e) {
        if (e instanceof RejectionException rejection) {
            String undeclared = step.undeclared(rejection.errorCode().code());
            return undeclared != null ? exchange.error(CoreErrors.MIDDLEWARE_CONTRACT, undeclared)
                    : exchange.error(rejection.errorCode(), rejection.getMessage());
        }
        rethrowFatal(e);
        LOG.log(System.Logger.Level.ERROR, step.describe() + " threw on " + exchange.method() + " "
                + exchange.path(), e);
        return exchange.error(CoreErrors.INTERNAL, step.describe() + " failed");
    }

    /** {@code response} as {@code step} returned it, or the contract's error when it is none or undeclared. */
    static Response returned(Step step, Exchange exchange, Response response) {
        if (response == null) {
            return exchange.error(CoreErrors.MIDDLEWARE_CONTRACT, step.describe() + " returned no response");
        }
        String undeclared = step.undeclared(response.code());
        return undeclared != null ? exchange.error(CoreErrors.MIDDLEWARE_CONTRACT, undeclared) : response;
    }

    private Response serveTerminal() {
        return guard(exchange, terminal);
    }

    /**
     * Runs {@code terminal} so that it always answers: a rejection becomes its error response, anything else thrown
     * (or no response) an internal error naming the backend, the stack trace going to the log only.
     */
    static Response guard(Exchange exchange, Terminal terminal) {
        try {
            Response response = terminal.serve(exchange);
            if (response == null) {
                throw new IllegalStateException("backend '" + exchange.backendName() + "' returned no response");
            }
            return response;
        } catch (Throwable e) {
            return terminalFailed(exchange, e);
        }
    }

    /** The answer for what a terminal threw: a rejection's error, else an internal error naming the backend. */
    static Response terminalFailed(Exchange exchange, Throwable e) {
        if (e instanceof RejectionException rejection) {
            return exchange.error(rejection.errorCode(), rejection.getMessage());
        }
        rethrowFatal(e);
        LOG.log(System.Logger.Level.ERROR, "backend '" + exchange.backendName() + "' failed on "
                + exchange.method() + " " + exchange.path(), e);
        return exchange.error(CoreErrors.INTERNAL, "backend '" + exchange.backendName() + "' failed");
    }

    /** Out of memory and similar cannot be answered; a stack overflow in one plugin can. */
    static void rethrowFatal(Throwable e) {
        if (e instanceof VirtualMachineError && !(e instanceof StackOverflowError)) {
            throw (VirtualMachineError) e;
        }
    }
}
