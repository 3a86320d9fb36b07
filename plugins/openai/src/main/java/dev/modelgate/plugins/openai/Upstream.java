package dev.modelgate.plugins.openai;

import dev.modelgate.plugins.pool.Instance;
import dev.modelgate.spi.Headers;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;

/**
 * One OpenAI-compatible server: its base URL (such as {@code http://ollama:11434/v1}), the key it is called with
 * the models it serves ({@code *} for any) and its weight, when it shares first tries with other weighted upstreams
 * (0 when it is only tried in order). The key is sent as {@code Authorization: Bearer}; it is never logged
 * ({@link #toString} leaves it out).
 *
 * <p>An {@link Azure} upstream speaks Azure OpenAI's variant instead: the base URL is the resource's endpoint, a
 * model's calls go to {@code {endpoint}/openai/deployments/{deployment}/{path}?api-version=...} (the model list to
 * {@code {endpoint}/openai/models?api-version=...}), and the key goes as the {@code api-key} header.
 */
final class Upstream {

    static final String ANY_MODEL = "*";

    /**
     * Azure OpenAI's addressing.
     *
     * @param apiVersion the {@code api-version} every call carries, such as {@code 2024-10-21}
     * @param deployments the deployment serving each model; a model not listed is its own deployment's name
     */
    record Azure(String apiVersion, Map<String, String> deployments) {
        Azure {
            deployments = Map.copyOf(deployments);
        }
    }

    private final String name;
    private final URI baseUri;
    private final String apiKey;
    private final Set<String> models;
    private final Instance instance;
    private final Azure azure;

    /**
     * @param index its place among the backend's upstreams
     * @param azure Azure OpenAI's addressing, or {@code null} for a plain OpenAI-compatible server
     */
    Upstream(int index, String name, URI baseUri, String apiKey, Set<String> models, int weight, Azure azure) {
        this.instance = new Instance(index, name, baseUri, weight);
        this.name = name;
        this.baseUri = baseUri;
        this.apiKey = apiKey;
        this.models = Set.copyOf(models);
        this.azure = azure;
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

    /**
     * The request target of {@code path} under the base URL (a path such as {@code chat/completions}): path and
     * query.
     *
     * @param model the model the call is for (after aliases), or {@code null} for a call about no one model
     */
    String target(String path, String model) {
        String base = baseUri.getRawPath() == null ? "" : baseUri.getRawPath();
        if (azure == null) {
            return base + "/" + path;
        }
        String query = "?api-version=" + encode(azure.apiVersion());
        if (model == null) {
            return base + "/openai/" + path + query;
        }
        return base + "/openai/deployments/" + encode(azure.deployments().getOrDefault(model, model)) + "/" + path
                + query;
    }

    /** The headers of a call: what it accepts, its body's type, and the upstream's key. */
    Headers headers(boolean hasBody, String accept) {
        Headers headers = new Headers().set("Accept", accept == null || accept.isBlank() ? "application/json"
                : accept);
        if (hasBody) {
            headers.set("Content-Type", "application/json");
        }
        if (!apiKey.isEmpty()) {
            if (azure == null) {
                headers.set("Authorization", "Bearer " + apiKey);
            } else {
                headers.set("api-key", apiKey);
            }
        }
        return headers;
    }

    /** Where its calls go: the base URL's scheme, host and port. */
    URI server() {
        return baseUri;
    }

    /** {@code text} as one path segment or query value. */
    private static String encode(String text) {
        return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
    }

    @Override
    public String toString() {
        return "upstream '" + name + "'";
    }
}
