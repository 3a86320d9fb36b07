package dev.modelgate.plugins.openai;

import dev.modelgate.plugins.pool.ConnectionGauges;
import dev.modelgate.spi.Backend;
import dev.modelgate.spi.BackendProvider;
import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.PluginContext;
import dev.modelgate.spi.upstream.UpstreamPool;
import dev.modelgate.spi.upstream.UpstreamSettings;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The {@code openai} backend: the OpenAI front's calls forwarded to OpenAI-compatible upstreams (vLLM, Ollama,
 * llama.cpp, TGI, a hosted provider). See {@link OpenAiBackend} for what one call does.
 *
 * <p>Config keys: {@code upstreams}, a list tried in order, each with {@code name}, {@code base-url} (the URL the
 * OpenAI paths go under, such as {@code http://ollama:11434/v1}), {@code models} (the model names it serves, default
 * {@code ["*"]}: any), and its key as {@code api-key} (meant to be {@code ${ENV_VAR}}) or {@code api-key-file} (a
 * file holding it), {@code weight} (absent or 0: tried in order only; upstreams with a weight share the first try of
 * the models they serve by weight, smooth weighted round robin), {@code kind} ({@code openai}, or {@code azure} for
 * Azure OpenAI's URLs and {@code api-key} header, with {@code api-version} and {@code deployments}, model: deployment,
 * whose models are then the ones it serves by default); {@code aliases} (client's name: upstream's name); {@code connect-timeout} (2s);
 * {@code request-timeout} (60s, until the upstream's answer begins, or ends for one not streamed); {@code max-response-size} (16MiB, for answers
 * that are not streamed); {@code ask-for-usage} (true: a stream whose client set no {@code stream_options} is sent
 * with {@code stream_options.include_usage}, and the chunk that only reports usage is kept from the client);
 * {@code stream-idle-timeout} (2m: a stream whose upstream sends nothing for that long ends with an error event).
 *
 * <p>Exports {@code modelgate_llm_tokens_total{backend, upstream, model, type}}: the prompt and completion tokens the
 * upstreams' successful answers report in {@code usage}; and, as the {@code http} backend,
 * {@code modelgate_backend_connections{backend, state}} summed over its connection pools, one per upstream.
 */
public final class OpenAiBackendProvider implements BackendProvider {

    /** Connections per upstream; how long they are kept is as the http backend's defaults. */
    private static final int MAX_CONNECTIONS = 1024;
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(60);
    private static final Duration MAX_CONNECTION_LIFETIME = Duration.ofMinutes(5);

    /** An Azure deployment's name. */
    private static final java.util.regex.Pattern DEPLOYMENT = java.util.regex.Pattern.compile("[A-Za-z0-9._-]+");

    @Override
    public String type() {
        return "openai";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return OpenAiErrors.ALL;
    }

    @Override
    public Backend create(ConfigNode config, PluginContext context) {
        List<Upstream> upstreams = new ArrayList<>();
        for (ConfigNode node : config.list("upstreams")) {
            upstreams.add(upstream(node, upstreams.size()));
        }
        if (upstreams.isEmpty()) {
            config.problem("upstreams", "list at least one upstream with a base-url");
        }
        Map<String, String> aliases = new LinkedHashMap<>();
        ConfigNode aliasNode = config.child("aliases");
        // Read as a whole: its keys are the clients' model names, not settings of the reference.
        aliasNode.raw().fields().forEachRemaining(alias -> {
            if (alias.getValue().isTextual() && !alias.getValue().asText().isBlank()) {
                aliases.put(alias.getKey(), alias.getValue().asText());
            } else {
                aliasNode.problem(alias.getKey(), "must name the upstream's model, but was " + alias.getValue());
            }
        });
        Duration connectTimeout = config.duration("connect-timeout", Duration.ofSeconds(2));
        // No key of its own for the pools: a stream holds its connection for its whole length, so the bound is set
        // high enough never to queue a call, and a call waits for a free connection no longer than for a new one.
        UpstreamSettings pooling = new UpstreamSettings(MAX_CONNECTIONS, connectTimeout, connectTimeout, IDLE_TIMEOUT,
                MAX_CONNECTION_LIFETIME);
        UpstreamPool[] pools = new UpstreamPool[upstreams.size()];
        for (Upstream upstream : upstreams) {
            pools[upstream.instance().index()] = context.upstreamHttp().open(upstream.server(), pooling);
        }
        ConnectionGauges.export(context, pools);
        return new OpenAiBackend(upstreams, pools, aliases,
                config.duration("request-timeout", Duration.ofSeconds(60)),
                config.size("max-response-size", 16L << 20), context.metrics(),
                config.bool("ask-for-usage", true), config.duration("stream-idle-timeout", Duration.ofMinutes(2)));
    }

    private static Upstream upstream(ConfigNode node, int index) {
        String name = node.string("name", "upstream-" + index);
        String baseUrl = node.string("base-url").replaceAll("/+$", "");
        URI baseUri = URI.create("http://invalid");
        try {
            baseUri = URI.create(baseUrl);
            if (!"http".equals(baseUri.getScheme()) && !"https".equals(baseUri.getScheme())
                    || baseUri.getHost() == null || baseUri.getQuery() != null) {
                node.problem("base-url", "must be an http or https URL without a query, but was '" + baseUrl + "'");
            }
        } catch (IllegalArgumentException e) {
            node.problem("base-url", "is not a URL: '" + baseUrl + "'");
        }
        Upstream.Azure azure = azure(node);
        List<String> models = node.has("models") ? node.strings("models")
                : azure != null && !azure.deployments().isEmpty() ? List.copyOf(azure.deployments().keySet())
                : List.of(Upstream.ANY_MODEL);
        return new Upstream(index, name, baseUri, apiKey(node), new LinkedHashSet<>(models),
                node.integer("weight", 0, 0, 1000), azure);
    }

    /** Azure OpenAI's addressing for {@code kind: azure}; {@code null} for {@code kind: openai}. */
    private static Upstream.Azure azure(ConfigNode node) {
        String kind = node.string("kind", "openai");
        if (kind.equals("openai")) {
            for (String azureOnly : List.of("api-version", "deployments")) {
                if (node.has(azureOnly)) {
                    node.problem(azureOnly, "applies only with kind: azure");
                }
            }
            return null;
        }
        if (!kind.equals("azure")) {
            node.problem("kind", "must be openai or azure, but was '" + kind + "'");
            return null;
        }
        String apiVersion = node.string("api-version", "").strip();
        if (apiVersion.isEmpty()) {
            node.problem("api-version", "is required with kind: azure, such as 2024-10-21");
        }
        Map<String, String> deployments = new LinkedHashMap<>();
        ConfigNode deploymentNode = node.child("deployments");
        // Read as a whole: its keys are model names, not settings of the reference.
        deploymentNode.raw().fields().forEachRemaining(entry -> {
            if (entry.getValue().isTextual() && DEPLOYMENT.matcher(entry.getValue().asText()).matches()) {
                deployments.put(entry.getKey(), entry.getValue().asText());
            } else {
                deploymentNode.problem(entry.getKey(), "must name an Azure deployment (letters, digits, '.', '_', "
                        + "'-'), but was " + entry.getValue());
            }
        });
        return new Upstream.Azure(apiVersion, deployments);
    }

    /** The key from {@code api-key} or {@code api-key-file}, or empty for an upstream that takes none. */
    private static String apiKey(ConfigNode node) {
        if (node.has("api-key") && node.has("api-key-file")) {
            node.problem("api-key-file", "give api-key or api-key-file, not both");
        }
        if (node.has("api-key-file")) {
            String file = node.string("api-key-file");
            try {
                return Files.readString(Path.of(file), StandardCharsets.UTF_8).strip();
            } catch (IOException | java.nio.file.InvalidPathException e) {
                node.problem("api-key-file", e instanceof java.nio.file.NoSuchFileException
                        ? "no such file: " + file : "cannot be read: " + e.getMessage());
                return "";
            }
        }
        return node.string("api-key", "").strip();
    }
}
