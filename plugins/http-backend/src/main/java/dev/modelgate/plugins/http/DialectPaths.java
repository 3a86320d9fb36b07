package dev.modelgate.plugins.http;

/** The paths a model server of each dialect serves a call on, after its base URL. */
final class DialectPaths {

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
}
