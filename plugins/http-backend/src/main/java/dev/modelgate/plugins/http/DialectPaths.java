package dev.modelgate.plugins.http;

/** The paths a model server of each dialect serves a call on, after its base URL. */
final class DialectPaths {

    /** A TF Serving predict URL's path: the server's base path, then the model. */
    private static final java.util.regex.Pattern TF_SERVING_CALL =
            java.util.regex.Pattern.compile("(.*)/v1/models/([^/:]+)(?:/versions/[^/:]+)?:predict");
    /** A KServe v2 infer URL's path: the server's base path, then the model. */
    private static final java.util.regex.Pattern KSERVE_V2_CALL =
            java.util.regex.Pattern.compile("(.*)/v2/models/([^/]+)(?:/versions/[^/]+)?/infer");

    private DialectPaths() {
    }

    /**
     * The path of an inference call: {@code /v1/models/{m}[/versions/{v}]:predict} (or {@code :classify},
     * {@code :regress}) for TF Serving, {@code /v2/models/{m}[/versions/{v}]/infer} for KServe v2.
     */
    static String call(String dialect, String model, String version, String verb) {
        String versioned = "/models/" + model + (version == null ? "" : "/versions/" + version);
        if (dialect.equals("tf-serving")) {
            String method = verb == null || verb.equals("infer") ? "predict" : verb;
            return "/v1" + versioned + ":" + method;
        }
        return "/v2" + versioned + "/infer";
    }

    /** The path of a model's metadata: {@code .../metadata} for TF Serving, the model's own path for KServe v2. */
    static String metadata(String dialect, String model) {
        return dialect.equals("tf-serving") ? "/v1/models/" + model + "/metadata" : "/v2/models/" + model;
    }

    /**
     * When {@code path} is a whole inference call of {@code dialect} (a TF Serving predict URL, say), its base path
     * (group 1) and model (group 2); otherwise {@code null}, for a base URL as it is.
     */
    static java.util.regex.Matcher callOf(String dialect, String path) {
        java.util.regex.Matcher call = (dialect.equals("tf-serving") ? TF_SERVING_CALL : KSERVE_V2_CALL)
                .matcher(path == null ? "" : path);
        return call.matches() ? call : null;
    }
}
