package dev.modelgate.kernel;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the YAML configuration and substitutes {@code ${NAME}} and {@code ${NAME:-default}} in string values.
 *
 * <p>Substitution happens after parsing, value by value, so a variable's content can never change the document's
 * structure. A variable that is unset and has no default is a problem naming the key that uses it.
 */
public final class ConfigSource {

    /** Where the embedded default configuration lives inside the gateway jar. */
    public static final String DEFAULT_RESOURCE = "/modelgate/gateway.yaml";

    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?}");
    /** A key given twice is an error, not a silent override of the first. */
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory())
            .enable(com.fasterxml.jackson.core.JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final String origin;
    private final JsonNode tree;
    private final List<String> problems;
    private final boolean unreadable;

    private ConfigSource(String origin, JsonNode tree, List<String> problems, boolean unreadable) {
        this.origin = origin;
        this.tree = tree;
        this.problems = problems;
        this.unreadable = unreadable;
    }

    /** The configuration in {@code file}, or the embedded default when {@code file} is {@code null}. */
    public static ConfigSource load(Path file, Map<String, String> environment) throws IOException {
        if (file == null) {
            try (InputStream in = ConfigSource.class.getResourceAsStream(DEFAULT_RESOURCE)) {
                if (in == null) {
                    throw new IOException("no configuration given and no embedded default at " + DEFAULT_RESOURCE);
                }
                return parse("embedded default", new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8),
                        environment);
            }
        }
        return parse(file.toString(), Files.readString(file), environment);
    }

    /** Parses {@code yaml}; a syntax error is reported as a problem with its line and column. */
    public static ConfigSource parse(String origin, String yaml, Map<String, String> environment) {
        List<String> problems = new ArrayList<>();
        JsonNode tree;
        boolean unreadable = false;
        try {
            tree = YAML.readTree(yaml);
        } catch (JacksonException e) {
            unreadable = true;
            var location = e.getLocation();
            problems.add("(yaml): " + e.getOriginalMessage()
                    + (location == null ? "" : " at line " + location.getLineNr() + ", column " + location.getColumnNr()));
            tree = null;
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            tree = YAML.createObjectNode();
        } else if (!tree.isObject()) {
            problems.add("(root): must be a mapping");
            tree = YAML.createObjectNode();
        }
        substitute(tree, "", environment, problems);
        return new ConfigSource(origin, tree, problems, unreadable);
    }

    private static void substitute(JsonNode node, String path, Map<String, String> environment,
            List<String> problems) {
        if (node instanceof ObjectNode object) {
            Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                String fieldPath = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
                replaceText(field.getValue(), fieldPath, environment, problems, field::setValue);
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                int index = i;
                replaceText(array.get(i), path + "[" + i + "]", environment, problems,
                        value -> array.set(index, value));
            }
        }
    }

    private static void replaceText(JsonNode value, String path, Map<String, String> environment,
            List<String> problems, java.util.function.Consumer<JsonNode> replace) {
        if (value.isTextual() && value.asText().contains("${")) {
            replace.accept(TextNode.valueOf(expand(value.asText(), variable -> {
                problems.add(path + ": environment variable " + variable + " is not set");
                return "";
            }, environment)));
        } else {
            substitute(value, path, environment, problems);
        }
    }

    private static String expand(String text, UnaryOperator<String> onMissing, Map<String, String> environment) {
        Matcher matcher = VARIABLE.matcher(text);
        StringBuilder result = new StringBuilder();
        while (matcher.find()) {
            String value = environment.get(matcher.group(1));
            if (value == null || value.isEmpty() && matcher.group(2) != null) {
                value = matcher.group(2) != null ? matcher.group(2) : onMissing.apply(matcher.group(1));
            }
            matcher.appendReplacement(result, Matcher.quoteReplacement(value));
        }
        matcher.appendTail(result);
        return result.toString();
    }

    /** Where the configuration came from: a file path or {@code embedded default}. */
    public String origin() {
        return origin;
    }

    public JsonNode tree() {
        return tree;
    }

    /** Whether the text is not YAML at all: then its syntax error is the only problem worth reporting. */
    public boolean unreadable() {
        return unreadable;
    }

    /** Problems found while reading: YAML syntax, unset variables. */
    public List<String> problems() {
        return problems;
    }
}
