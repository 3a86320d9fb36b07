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
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

/**
 * Reads the YAML configuration and substitutes {@code ${NAME}} and {@code ${NAME:-default}} in string values.
 *
 * <p>Substitution happens after parsing, value by value, so a variable's content can never change the document's
 * structure. A variable that is unset and has no default is one problem naming the keys that use it; what those keys
 * then lack is not reported again.
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
    private final java.util.Set<String> unsetPaths;

    private ConfigSource(String origin, JsonNode tree, List<String> problems, boolean unreadable,
            java.util.Set<String> unsetPaths) {
        this.origin = origin;
        this.tree = tree;
        this.problems = problems;
        this.unreadable = unreadable;
        this.unsetPaths = java.util.Set.copyOf(unsetPaths);
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
        if (file.toString().isBlank()) {
            // --config "$UNSET": reading "" would read the working folder and say "Is a directory".
            throw new java.io.FileNotFoundException("the configuration file's name is empty");
        }
        if (Files.isDirectory(file)) {
            throw new java.io.FileNotFoundException(file + " is a folder, not a configuration file");
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
            problems.add(syntaxError(origin, e));
            tree = null;
        }
        if (tree == null || tree.isMissingNode() || tree.isNull()) {
            tree = YAML.createObjectNode();
        } else if (!tree.isObject()) {
            problems.add("(root): must be a mapping");
            tree = YAML.createObjectNode();
        }
        Map<String, List<String>> unset = new java.util.LinkedHashMap<>();
        substitute(tree, "", environment, unset);
        java.util.Set<String> unsetPaths = new java.util.HashSet<>();
        unset.forEach((variable, paths) -> {
            unsetPaths.addAll(paths);
            problems.add(paths.getFirst() + ": environment variable " + variable + " is not set"
                    + (paths.size() == 1 ? "" : " (also used by " + String.join(", ", paths.subList(1, paths.size()))
                            + ")"));
        });
        return new ConfigSource(origin, tree, problems, unreadable, unsetPaths);
    }

    /**
     * A YAML syntax error naming the file, the line and column and the problem, in one line: SnakeYAML's own message
     * spans several, with a quote of the text.
     */
    private static String syntaxError(String origin, JacksonException e) {
        String where;
        String problem;
        if (e.getCause() instanceof MarkedYAMLException yaml && yaml.getProblemMark() != null) {
            Mark mark = yaml.getProblemMark();
            where = "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
            problem = yaml.getProblem();
            if (yaml.getContext() != null && yaml.getContextMark() != null) {
                problem += " (" + yaml.getContext() + " at line " + (yaml.getContextMark().getLine() + 1) + ", column "
                        + (yaml.getContextMark().getColumn() + 1) + ")";
            }
        } else {
            var location = e.getLocation();
            where = location == null ? "" : "line " + location.getLineNr() + ", column " + location.getColumnNr();
            problem = e.getOriginalMessage();
        }
        return origin + ": not valid YAML" + (where.isEmpty() ? "" : " at " + where) + ": "
                + problem.replaceAll("\\s+", " ").strip();
    }

    /** Substitutes every variable under {@code node}, collecting the keys that use each unset one in {@code unset}. */
    private static void substitute(JsonNode node, String path, Map<String, String> environment,
            Map<String, List<String>> unset) {
        if (node instanceof ObjectNode object) {
            Iterator<Map.Entry<String, JsonNode>> fields = object.fields();
            while (fields.hasNext()) {
                Map.Entry<String, JsonNode> field = fields.next();
                String fieldPath = path.isEmpty() ? field.getKey() : path + "." + field.getKey();
                replaceText(field.getValue(), fieldPath, environment, unset, field::setValue);
            }
        } else if (node instanceof ArrayNode array) {
            for (int i = 0; i < array.size(); i++) {
                int index = i;
                replaceText(array.get(i), path + "[" + i + "]", environment, unset,
                        value -> array.set(index, value));
            }
        }
    }

    private static void replaceText(JsonNode value, String path, Map<String, String> environment,
            Map<String, List<String>> unset, java.util.function.Consumer<JsonNode> replace) {
        if (value.isTextual() && value.asText().contains("${")) {
            replace.accept(TextNode.valueOf(expand(value.asText(), variable -> {
                List<String> paths = unset.computeIfAbsent(variable, name -> new ArrayList<>());
                if (!paths.contains(path)) {
                    paths.add(path);
                }
                return "";
            }, environment)));
        } else {
            substitute(value, path, environment, unset);
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

    /**
     * Whether {@code problem} is about a key whose value lacks an unset variable, beyond the variable's own problem:
     * the missing value is that one problem, not two.
     */
    public boolean followsFromUnsetVariable(String problem) {
        int colon = problem.indexOf(": ");
        return colon > 0 && unsetPaths.contains(problem.substring(0, colon))
                && !problem.contains(": environment variable ");
    }

    /** Problems found while reading: YAML syntax, unset variables. */
    public List<String> problems() {
        return problems;
    }
}
