package dev.modelgate.plugins.openai;

import dev.modelgate.plugins.pool.Instance;
import java.net.URI;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Set;

/**
 * One OpenAI-compatible server: its base URL (such as {@code http://ollama:11434/v1}), the key it is called with
 * the models it serves ({@code *} for any) and its weight, when it shares first tries with other weighted upstreams
 * (0 when it is only tried in order). The key is sent as {@code Authorization: Bearer}; it is never logged
 * ({@link #toString} leaves it out).
 */
final class Upstream {

    static final String ANY_MODEL = "*";

    private final String name;
    private final URI baseUri;
    private final String apiKey;
    private final Set<String> models;
    private final Instance instance;

    /** @param index its place among the backend's upstreams */
    Upstream(int index, String name, URI baseUri, String apiKey, Set<String> models, int weight) {
        this.instance = new Instance(index, name, baseUri, weight);
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

    /** The upstream as the weighted balancer sees it. */
    Instance instance() {
        return instance;
    }

    boolean weighted() {
        return instance.weight() > 0;
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
