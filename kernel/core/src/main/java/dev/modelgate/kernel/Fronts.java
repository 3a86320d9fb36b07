package dev.modelgate.kernel;

import dev.modelgate.spi.ConfigNode;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The protocols the API listener speaks, from the {@code fronts} section: the TensorFlow Serving front's prefix
 * ({@code fronts.tf-serving.prefix}, default {@code /tfserving}), the OpenAI front's prefix and route
 * ({@code fronts.openai.prefix}, default {@code /openai/v1}; {@code fronts.openai.route}, default {@code openai}). Matches a request against each front's grammar, the
 * protocol fronts first (their paths are the more specific).
 */
final class Fronts {

    private static final Pattern PREFIX = Pattern.compile("(/[A-Za-z0-9._~-]+)+");

    private final GatewayFront gateway = GatewayFront.INSTANCE;
    private final List<Front> all;
    private final List<String> listenerFronts;
    /** {@code fronts.openai.route} when the configuration gives it, else {@code null}. */
    private final String givenOpenAiRoute;

    private Fronts(List<Front> protocolFronts, java.util.Collection<String> listenerFronts, String givenOpenAiRoute) {
        this.givenOpenAiRoute = givenOpenAiRoute;
        List<Front> fronts = new java.util.ArrayList<>(protocolFronts);
        fronts.add(gateway);
        this.all = List.copyOf(fronts);
        this.listenerFronts = List.copyOf(listenerFronts);
    }

    /** The API listener's fronts from {@code fronts}, and the names of the fronts with listeners of their own. */
    static Fronts from(ConfigNode fronts, String serverVersion, java.util.Collection<String> listenerFronts) {
        ConfigNode tfServing = fronts.child(TfServingFront.DIALECT);
        String tfServingPrefix = prefix(tfServing, "/tfserving");
        ConfigNode openAi = fronts.child(OpenAiFront.DIALECT);
        String openAiPrefix = prefix(openAi, "/openai/v1");
        if (under(openAiPrefix, tfServingPrefix) || under(tfServingPrefix, openAiPrefix)) {
            openAi.problem("prefix", "must not overlap fronts.tf-serving.prefix '" + tfServingPrefix + "'");
        }
        String openAiRoute = openAi.string("route", OpenAiFront.DIALECT);
        return new Fronts(List.of(new TfServingFront(tfServingPrefix), new KServeFront(serverVersion),
                new OpenAiFront(openAiPrefix, openAiRoute)), listenerFronts, openAi.has("route") ? openAiRoute : null);
    }

    /**
     * Reports a {@code fronts.openai.route} that names no configured model; the default, {@code openai}, may be
     * missing in a configuration that serves no OpenAI traffic.
     */
    void checkRoutes(ConfigNode fronts, java.util.Set<String> models) {
        if (givenOpenAiRoute != null && !models.contains(givenOpenAiRoute)) {
            fronts.problem(OpenAiFront.DIALECT + ".route", "no route serves model '" + givenOpenAiRoute
                    + "'; routed models: " + String.join(", ", models));
        }
    }

    /** A front's {@code prefix}: a path outside the gateway's own API. */
    private static String prefix(ConfigNode front, String defaultPrefix) {
        String prefix = front.string("prefix", defaultPrefix);
        if (!PREFIX.matcher(prefix).matches() || prefix.startsWith("/v1") || prefix.startsWith("/v2")
                || prefix.startsWith("/models")) {
            front.problem("prefix", "must be a path such as " + defaultPrefix
                    + ", not under /v1, /v2 or /models, but was '" + prefix + "'");
        }
        return prefix;
    }

    private static boolean under(String path, String prefix) {
        return path.equals(prefix) || path.startsWith(prefix + "/");
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
