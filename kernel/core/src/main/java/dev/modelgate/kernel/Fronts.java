package dev.modelgate.kernel;

import dev.modelgate.spi.ConfigNode;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The protocols the API listener speaks, from the {@code fronts} section: the TensorFlow Serving front's prefix
 * ({@code fronts.tf-serving.prefix}, default {@code /tfserving}). Matches a request against each front's grammar, the
 * protocol fronts first (their paths are the more specific).
 */
final class Fronts {

    private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9._~-]+)+");

    private final GatewayFront gateway = GatewayFront.INSTANCE;
    private final List<Front> all;
    private final List<String> listenerFronts;

    private Fronts(String tfServingPrefix, String serverVersion, java.util.Collection<String> listenerFronts) {
        this.all = List.of(new TfServingFront(tfServingPrefix), new KServeFront(serverVersion), gateway);
        this.listenerFronts = List.copyOf(listenerFronts);
    }

    /** The API listener's fronts from {@code fronts}, and the names of the fronts with listeners of their own. */
    static Fronts from(ConfigNode fronts, String serverVersion, java.util.Collection<String> listenerFronts) {
        ConfigNode tfServing = fronts.child(TfServingFront.DIALECT);
        String prefix = tfServing.string("prefix", "/tfserving");
        if (!PREFIX.matcher(prefix).matches() || prefix.startsWith("/v1") || prefix.startsWith("/v2")
                || prefix.startsWith("/models")) {
            tfServing.problem("prefix", "must be a path such as /tfserving, not under /v1, /v2 or /models, but was '"
                    + prefix + "'");
        }
        return new Fronts(prefix, serverVersion, listenerFronts);
    }

    /** The call {@code path} names in the first front whose grammar takes it, or {@code null} for none. */
    FrontCall match(String method, String path, String accept) {
        for (Front front : all) {
            FrontCall call = front.match(method, path, accept);
            if (call != null) {
                return call;
            }
        }
        return null;
    }

    /** The front whose error shape a request gets before its call is known. */
    Front frontOf(String path) {
        FrontCall call = match("GET", path, null);
        return call == null ? gateway : call.front();
    }

    GatewayFront gateway() {
        return gateway;
    }

    /** The fronts' names, as routes list them in {@code fronts:}, listener fronts included. */
    List<String> names() {
        List<String> names = new java.util.ArrayList<>(all.stream().map(Front::dialect).toList());
        names.addAll(listenerFronts);
        return names;
    }
}
