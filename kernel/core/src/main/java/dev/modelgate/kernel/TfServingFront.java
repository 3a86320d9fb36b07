package dev.modelgate.kernel;

import dev.modelgate.spi.CoreErrors;
import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import dev.modelgate.spi.inference.ModelMetadata;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The TensorFlow Serving REST front under a prefix ({@code /tfserving} by default), unwrapped, so an unmodified TF
 * Serving client works: predict, classify and regress, model status and metadata, with TF Serving's own URL grammar
 * ({@code shared/reference/protocols.md} section 1.1).
 */
final class TfServingFront extends ProtocolFront {

    static final String DIALECT = "tf-serving";
    private static final Pattern CALL = Pattern.compile(
            "^/v1/models/([^/:]+)(?:/versions/(\\d+)|/labels/([^/:]+))?:(classify|regress|predict)$",
            Pattern.CASE_INSENSITIVE);
    private static final Pattern STATUS = Pattern.compile(
            "^/v1/models/([^/:]+)(?:/versions/(\\d+)|/labels/([^/:]+))?(/metadata)?/?$", Pattern.CASE_INSENSITIVE);

    private final String prefix;

    /** @param prefix where the front's paths start, such as {@code /tfserving}; never empty */
    TfServingFront(String prefix) {
        this.prefix = prefix;
    }

    @Override
    public String dialect() {
        return DIALECT;
    }

    @Override
    public FrontCall match(String method, String path, String accept) {
        if (!path.startsWith(prefix) || path.length() > prefix.length() && path.charAt(prefix.length()) != '/') {
            return null;
        }
        String rest = path.substring(prefix.length());
        Matcher call = CALL.matcher(rest);
        if (call.matches()) {
            return new FrontCall(this, Operation.PREDICT, call.group(1), call.group(2),
                    call.group(4).toLowerCase(java.util.Locale.ROOT), "POST", null);
        }
        Matcher status = STATUS.matcher(rest);
        if (status.matches()) {
            return new FrontCall(this, Operation.GET_MODEL, status.group(1), status.group(2),
                    status.group(4) == null ? "status" : "metadata", "GET", null);
        }
        return FrontCall.nothing(this);
    }

    @Override
    public Response describe(FrontCall call, Route route, Exchange exchange, Codecs codecs,
            MetricsRegistry metrics) {
        return ModelApi.withMetadata(call, route, exchange, metadata -> describe(call, route, exchange, codecs,
                metadata));
    }

    private Response describe(FrontCall call, Route route, Exchange exchange, Codecs codecs, ModelMetadata metadata) {
        if (call.verb().equals("metadata")) {
            return ModelApi.encodeMetadata(this, codecs, exchange, metadata);
        }
        String version = call.modelVersion() != null ? call.modelVersion()
                : metadata.versions().isEmpty() ? "1" : metadata.versions().getLast();
        String state = route.backend().ready() ? "AVAILABLE" : "UNKNOWN";
        // int64 fields print as strings in proto3 JSON, as TF Serving's own status answer does.
        return json(200, "{\"model_version_status\":[{\"version\":" + ModelApi.quote(version) + ",\"state\":\""
                + state + "\",\"status\":{\"error_code\":\"OK\",\"error_message\":\"\"}}]}");
    }

    @Override
    public Response serveServer(FrontCall call, Deployment deployment, Exchange exchange) {
        return exchange.error(CoreErrors.NO_SUCH_ENDPOINT, "'" + exchange.path() + "'");
    }
}
