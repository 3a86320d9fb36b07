package dev.modelgate.kernel;

import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.inference.ItemError;
import dev.modelgate.spi.inference.Payload;
import java.util.List;

/**
 * One protocol the API listener speaks to clients: the URL grammar of a dialect, the shape of its errors, and its
 * answers that need no inference. Request and response bodies of inference calls are the codecs' business
 * ({@link Codecs}); a front only says which dialect's codecs read them ({@link #bodyDialect()}).
 *
 * <p>Immutable and thread-safe.
 */
interface Front {

    /**
     * The front's name, as routes list it in {@code fronts:}: {@code modelgate}, {@code tf-serving},
     * {@code kserve-v2}.
     */
    String dialect();

    /** The dialect of its inference bodies, whose codecs read and write them. */
    String bodyDialect();

    /**
     * The call a request names, or {@code null} when the path is not this front's. A path under the front's own
     * prefix that names nothing is a call of {@link dev.modelgate.spi.Operation#OTHER}, answered in this front's
     * error shape.
     */
    FrontCall match(String method, String path, String accept);

    /**
     * The {@code Content-Type} a request body is read as: the declared one, unless the protocol reads undeclared
     * bodies in a type of its own.
     */
    default String readAs(String contentType) {
        return contentType;
    }

    /**
     * Checks a request body that goes to the backend unparsed (the proxy path), for what the front promises to refuse
     * itself; nothing by default.
     *
     * @throws dev.modelgate.spi.RejectionException when the body is refused
     */
    default void checkForwarded(Exchange exchange, String mediaType) {
    }

    /** Whether a client that sends {@code accept} takes the backend's answer passed through unchanged. */
    default boolean forwards(String accept) {
        return Codecs.accepts(accept, "application/json");
    }

    /** An error in this protocol's shape, with the code's HTTP status, the code as a field and in a header. */
    Response error(ErrorCode errorCode, String detail);

    /** The client's answer to a successful inference, from the codec's encoding of it. */
    Response answer(Payload payload);

    /**
     * The client's answer to an inference some of whose items failed ({@code itemErrors}, see
     * {@link dev.modelgate.spi.inference.ItemError}), from the codec's encoding of the whole answer. A protocol with no
     * status per item (TensorFlow Serving, KServe v2, the gRPC services) keeps its shape: the call fails with the code
     * of its first failed item, the detail saying which items failed, so that no client takes a failed item's row for
     * an answer.
     */
    default Response answerItems(Payload payload, List<ItemError> itemErrors, int items) {
        ItemError first = itemErrors.getFirst();
        StringBuilder detail = new StringBuilder().append(itemErrors.size()).append(" of ").append(items)
                .append(items == 1 ? " item" : " items").append(" failed; item ").append(first.index());
        if (first.message() != null) {
            detail.append(": ").append(first.message());
        }
        return error(first.error(), detail.toString());
    }

    /** The client's answer when the backend's own answer in this dialect passes through (the proxy path). */
    Response passThrough(Response backendAnswer, Exchange exchange);

    /**
     * Whether {@link #passThrough} gives a backend answer of {@code status} as it is, its body unread: a body still
     * arriving then needs no thread that may block before it is written.
     */
    default boolean passesAsIs(int status) {
        return false;
    }

    /**
     * Answers a call about a model that needs no inference ({@link dev.modelgate.spi.Operation#GET_MODEL}: status,
     * metadata, readiness) at the end of {@code route}'s pipeline.
     */
    Response describe(FrontCall call, Route route, Exchange exchange, Codecs codecs,
            MetricsRegistry metrics);

    /**
     * Answers a call about the server, which no route serves ({@link dev.modelgate.spi.Operation#SERVER} and
     * {@link dev.modelgate.spi.Operation#LIST_MODELS}).
     */
    Response serveServer(FrontCall call, Deployment deployment, Exchange exchange);

    /** The header that carries the gateway's code on every error of a protocol front. */
    String CODE_HEADER = "X-Modelgate-Code";
}
