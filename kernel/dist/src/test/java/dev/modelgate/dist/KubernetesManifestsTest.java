package dev.modelgate.dist;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.modelgate.kernel.testing.RunningGateway;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * deploy/kubernetes, rendered by {@code kubectl kustomize} for each cluster overlay, agrees with the gateway it runs:
 * the ConfigMap's configuration loads, the probes answer on the admin port it configures, the container and Service
 * ports are the ones it listens on, and the grace period outlasts its drain.
 */
class KubernetesManifestsTest {

    private static final Path KUBERNETES = Path.of("../../deploy/kubernetes").toAbsolutePath().normalize();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m)");
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Z0-9_]+)(?::-([^}]*))?}");

    /** The overlay's objects as {@code kubectl kustomize} renders them, by kind. */
    private static Map<String, JsonNode> render(String overlay) throws Exception {
        Process kubectl = new ProcessBuilder("kubectl", "kustomize", KUBERNETES.resolve(overlay).toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        byte[] rendered = kubectl.getInputStream().readAllBytes();
        assertTrue(kubectl.waitFor(60, TimeUnit.SECONDS), "kubectl kustomize did not finish");
        assertEquals(0, kubectl.exitValue(), "kubectl kustomize " + overlay);
        Map<String, JsonNode> byKind = new HashMap<>();
        try (var objects = YAML.readerFor(JsonNode.class).<JsonNode>readValues(rendered)) {
            while (objects.hasNext()) {
                JsonNode object = objects.next();
                assertEquals(null, byKind.put(object.get("kind").asText(), object), "one object of each kind");
            }
        }
        return byKind;
    }

    /** The configuration as the pod sees it: variables taken from the container's env, else their defaults. */
    private static String configAsThePodSeesIt(String config, JsonNode container) {
        Map<String, String> env = new HashMap<>();
        container.path("env").forEach(variable -> env.put(variable.get("name").asText(),
                variable.get("value").asText()));
        Matcher matcher = VARIABLE.matcher(config);
        StringBuilder resolved = new StringBuilder();
        while (matcher.find()) {
            String value = env.getOrDefault(matcher.group(1), matcher.group(2));
            assertNotNull(value, "the pod sets " + matcher.group(1));
            matcher.appendReplacement(resolved, Matcher.quoteReplacement(value));
        }
        return matcher.appendTail(resolved).toString();
    }

    private static Duration duration(JsonNode written, Duration absent) {
        if (written.isMissingNode()) {
            return absent;
        }
        Matcher matcher = DURATION.matcher(written.asText());
        assertTrue(matcher.matches(), written.asText());
        long amount = Long.parseLong(matcher.group(1));
        return switch (matcher.group(2)) {
            case "ms" -> Duration.ofMillis(amount);
            case "s" -> Duration.ofSeconds(amount);
            default -> Duration.ofMinutes(amount);
        };
    }

    private static int containerPort(JsonNode container, String name) {
        for (JsonNode port : container.get("ports")) {
            if (port.get("name").asText().equals(name)) {
                return port.get("containerPort").asInt();
            }
        }
        throw new AssertionError("no container port named " + name);
    }

    @Test
    void eachOverlayRendersAConsistentDeploymentOfAConfigurationThatServes() throws Exception {
        List<Integer> replicas = new ArrayList<>();
        List<String> regions = new ArrayList<>();
        for (String overlay : List.of("overlays/eu-west", "overlays/us-east")) {
            Map<String, JsonNode> objects = render(overlay);
            JsonNode deployment = objects.get("Deployment");
            JsonNode pod = deployment.at("/spec/template/spec");
            JsonNode container = pod.at("/containers/0");
            JsonNode configMap = objects.get("ConfigMap");
            String configText = configMap.at("/data/gateway.yaml").asText();
            JsonNode server = YAML.readTree(configText).get("server");

            // The configuration is the ConfigMap's, mounted as a folder (a subPath is never updated) and watched.
            List<String> args = YAML.convertValue(container.get("args"), YAML.getTypeFactory()
                    .constructCollectionType(List.class, String.class));
            assertEquals(List.of("--config", "/etc/modelgate/gateway.yaml", "--watch"), args, overlay);
            JsonNode mount = container.get("volumeMounts").get(0);
            assertEquals("/etc/modelgate", mount.get("mountPath").asText());
            assertFalse(mount.has("subPath"), overlay);
            assertEquals(configMap.at("/metadata/name").asText(),
                    pod.at("/volumes/0/configMap/name").asText(), overlay + ": the volume is the ConfigMap");
            assertEquals(mount.get("name").asText(), pod.at("/volumes/0/name").asText());

            // Ports: the container's are the configuration's, the Service's target them, the probes the admin port.
            assertEquals(server.get("port").asInt(), containerPort(container, "http"), overlay);
            assertEquals(server.get("grpc-port").asInt(), containerPort(container, "grpc"), overlay);
            assertEquals(server.get("admin-port").asInt(), containerPort(container, "admin"), overlay);
            assertEquals("0.0.0.0", server.get("admin-address").asText(), "the kubelet probes the pod's address");
            for (JsonNode port : objects.get("Service").at("/spec/ports")) {
                assertEquals(port.get("port").asInt(), containerPort(container, port.get("targetPort").asText()));
            }
            for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
                assertEquals("admin", container.at("/" + probe + "/httpGet/port").asText(), overlay + " " + probe);
            }

            // The grace period outlasts preStop, the drain delay and the shutdown timeout.
            JsonNode preStop = container.at("/lifecycle/preStop/exec/command");
            assertEquals("/bin/sleep", preStop.get(0).asText());
            Duration shutdown = Duration.ofSeconds(preStop.get(1).asLong())
                    .plus(duration(server.path("drain-delay"), Duration.ZERO))
                    .plus(duration(server.path("shutdown-timeout"), Duration.ofSeconds(20)));
            assertTrue(pod.get("terminationGracePeriodSeconds").asLong() >= shutdown.toSeconds(),
                    overlay + ": grace " + pod.get("terminationGracePeriodSeconds") + " s < " + shutdown);

            // The disruption budget selects these pods and leaves some of them up.
            JsonNode podLabels = deployment.at("/spec/template/metadata/labels");
            objects.get("PodDisruptionBudget").at("/spec/selector/matchLabels").fields().forEachRemaining(label ->
                    assertEquals(label.getValue(), podLabels.get(label.getKey()), overlay + ": PDB selector"));
            int count = deployment.at("/spec/replicas").asInt();
            assertTrue(objects.get("PodDisruptionBudget").at("/spec/maxUnavailable").asInt() < count, overlay);
            replicas.add(count);
            regions.add(pod.at("/affinity/nodeAffinity/requiredDuringSchedulingIgnoredDuringExecution"
                    + "/nodeSelectorTerms/0/matchExpressions/0/values/0").asText());

            // The configuration loads and the probes' paths answer on its admin listener.
            try (RunningGateway gateway = RunningGateway.start(configAsThePodSeesIt(configText, container), null,
                    Map.of())) {
                for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
                    String path = container.at("/" + probe + "/httpGet/path").asText();
                    assertEquals(200, gateway.adminGet(path).statusCode(), overlay + " " + probe + " " + path);
                }
            }
        }
        assertNotEquals(replicas.get(0), replicas.get(1), "each cluster its own size");
        assertEquals(List.of("eu-west-1", "us-east-1"), regions);
    }

    @Test
    void theBaseConfigMapHoldsTheFileTheCiStepValidates() throws Exception {
        String file = Files.readString(KUBERNETES.resolve("base/gateway.yaml"), StandardCharsets.UTF_8);
        assertEquals(file, render("base").get("ConfigMap").at("/data/gateway.yaml").asText());
    }
}
