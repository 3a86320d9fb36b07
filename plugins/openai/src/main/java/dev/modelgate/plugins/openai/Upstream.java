package dev.modelgate.plugins.openai;

import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Set;

/**
 * One OpenAI-compatible server: its base URL (such as {@code http://ollama:11434/v1}), the key it is called with
 * and the models it serves ({@code *} for any). The key is sent as {@code Authorization: Bearer}; it is never logged
 * ({@link #toString} leaves it out).
 */
final class Upstream {

    static final String ANY_MODEL = "*";

    private final String name;
    private final URI baseUri;
    private final String apiKey;
    private final Set<String> models;

    Upstream(String name, URI baseUri, String apiKey, Set<String> models) {
        this.name = name;
        this.baseUri = baseUri;
        this.apiKey = apiKey;
        this.models = Set.copyOf(models);
    }

    String name() {
        return name;
    }

    Set<String> models() {
        return models;
    }

    boolean serves(String model) {
        return models.contains(ANY_MODEL) || models.contains(model);
    }

    /** A request for {@code path} under the base URL (a path such as {@code chat/completions}). */
    HttpRequest request(String method, String path, byte[] body, Duration timeout, String accept) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(baseUri + "/" + path)).timeout(timeout)
                .header("Accept", accept == null || accept.isBlank() ? "application/json" : accept)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (!apiKey.isEmpty()) {
            request.header("Authorization", "Bearer " + apiKey);
        }
        return request.build();
    }

    @Override
    public String toString() {
        return "upstream '" + name + "'";
    }
}
