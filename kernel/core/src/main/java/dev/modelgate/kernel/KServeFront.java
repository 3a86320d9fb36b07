package dev.modelgate.kernel;

import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Operation;
import dev.modelgate.spi.Response;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Open Inference Protocol (KServe v2) REST front, as Triton, KServe and MLServer serve it: health, server
 * metadata, model metadata and readiness, and {@code POST /v2/models/{m}[/versions/{v}]/infer}.
 *
 * <p>{@code GET /v2/models/{m}} is this protocol's model metadata; the gateway's own v2 description of a model
 * answers there only to {@code Accept: application/vnd.modelgate.v2+json}.
 */
final class KServeFront extends ProtocolFront {

    static final String DIALECT = "kserve-v2";
    private static final Pattern MODEL_PATH =
            Pattern.compile("^/v2/models/([^/:]+)(?:/versions/([^/:]+))?(?:/(infer|ready))?/?$");
    private static final String VENDOR_JSON = "application/vnd.modelgate";

    private final String serverVersion;

    KServeFront(String serverVersion) {
        this.serverVersion = serverVersion;
    }

    @Override
    public String dialect() {
        return DIALECT;
    }

    @Override
    public FrontCall match(String method, String path, String accept) {
        switch (path) {
            case "/v2", "/v2/" -> {
                return server("metadata");
            }
            case "/v2/health/live" -> {
                return server("live");
            }
            case "/v2/health/ready" -> {
                return server("ready");
            }
            default -> {
            }
        }
        if (path.startsWith("/v2/health/")) {
            return FrontCall.nothing(this);
        }
        if (!path.startsWith("/v2/models/")) {
            return null; // the cheap test first: this runs for every request of every front
        }
        Matcher matcher = MODEL_PATH.matcher(path);
        if (!matcher.matches()) {
            return null;
        }
        String action = matcher.group(3);
        if (action == null && accept != null && accept.contains(VENDOR_JSON)) {
            return null; // the gateway's own description of the model
        }
        if ("infer".equals(action)) {
            return new FrontCall(this, Operation.PREDICT, matcher.group(1), matcher.group(2), "infer", "POST", null);
        }
        return new FrontCall(this, Operation.GET_MODEL, matcher.group(1), matcher.group(2),
                action == null ? "metadata" : "ready", "GET", null);
    }

    private FrontCall server(String verb) {
        return new FrontCall(this, Operation.SERVER, null, null, verb, "GET", null);
    }

    @Override
    public Response describe(FrontCall call, Route route, Exchange exchange, Codecs codecs,
            MetricsRegistry metrics) {
        return ModelApi.withMetadata(call, route, exchange, metadata -> {
            if (call.verb().equals("ready")) {
                boolean ready = route.backend().ready();
                // Clients decide on the status; the body is KServe's.
                return json(ready ? 200 : 503, "{\"name\":" + ModelApi.quote(call.model()) + ",\"ready\":" + ready
                        + "}");
            }
            return ModelApi.encodeMetadata(this, codecs, exchange, metadata);
        });
    }

    @Override
    public Response serveServer(FrontCall call, Deployment deployment, Exchange exchange) {
        return switch (call.verb()) {
            case "live" -> json(200, "{\"live\":true}");
            case "ready" -> {
                boolean ready = deployment.backends().values().stream().allMatch(backend -> backend.ready());
                yield json(ready ? 200 : 503, "{\"ready\":" + ready + "}");
            }
            default -> json(200, "{\"name\":\"modelgate\",\"version\":" + ModelApi.quote(serverVersion)
                    + ",\"extensions\":[\"binary_tensor_data\"]}");
        };
    }
}
