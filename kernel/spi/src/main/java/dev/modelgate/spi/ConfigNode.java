package dev.modelgate.spi;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One node of the configuration, with typed getters that report problems by exact key path instead of throwing.
 *
 * <p>Every problem (a missing required key, a value of the wrong type or out of range) is recorded in the problem
 * list shared by the whole configuration, as {@code routes[1].backend: unknown backend 'tf-main'}, and the getter
 * returns the default so that validation goes on and reports every problem at once. Keys a node holds but nobody
 * read are reported by the kernel as unknown. {@code ${ENV}} references are already substituted.
 *
 * <p>Not thread-safe; used while the configuration is built.
 */
public final class ConfigNode {

    private static final Pattern DURATION = Pattern.compile("(\\d+)(us|ms|s|m|h)");
    /** Longer than any timeout or interval a gateway needs, and far from overflowing nanoseconds. */
    private static final Duration MAX_DURATION = Duration.ofDays(365);
    private static final long MAX_SIZE = 1L << 40;
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|KiB|MB|MiB|GB|GiB)?", Pattern.CASE_INSENSITIVE);

    /**
     * What a typed getter was asked for: the key's full path, the type it binds (with its range), its default as
     * written in a configuration ({@code null} when it has none), and the class that asked. The kernel's
     * {@code config-reference} command collects these to document every key from the code that binds it.
     */
    public record KeyRead(String path, String type, String defaultValue, boolean required, Class<?> reader) {
    }

    private static final StackWalker CALLERS = StackWalker.getInstance(StackWalker.Option.RETAIN_CLASS_REFERENCE);

    private final JsonNode node;
    private final String path;
    private final List<String> problems;
    /** Told of every typed read; {@code null} outside {@code config-reference}. */
    private final Consumer<KeyRead> recorder;
    private final Set<String> readKeys = new HashSet<>();
    /** Keys read, asked about with {@link #has} or {@linkplain #known declared}: what an "unknown key" hint lists. */
    private final Set<String> knownKeys = new java.util.TreeSet<>();
    private final List<ConfigNode> children = new ArrayList<>();

    private ConfigNode(JsonNode node, String path, List<String> problems, Consumer<KeyRead> recorder) {
        this.node = node == null || node.isNull() ? JsonNodeFactory.instance.objectNode() : node;
        this.path = path;
        this.problems = problems;
        this.recorder = recorder;
    }

    /** The root of a configuration whose problems go to {@code problems}. */
    public static ConfigNode root(JsonNode node, List<String> problems) {
        return new ConfigNode(node, "", problems, null);
    }

    /** {@link #root}, telling {@code recorder} of every key a getter of it or of its children reads. */
    public static ConfigNode recording(JsonNode node, List<String> problems, Consumer<KeyRead> recorder) {
        return new ConfigNode(node, "", problems, recorder);
    }

    private void record(String key, String type, Object defaultValue, boolean required) {
        if (recorder != null) {
            Class<?> reader = CALLERS.walk(frames -> frames.map(StackWalker.StackFrame::getDeclaringClass)
                    .filter(caller -> caller != ConfigNode.class).findFirst().orElse(ConfigNode.class));
            recorder.accept(new KeyRead(pathOf(key), type, defaultValue == null ? null : defaultValue.toString(),
                    required, reader));
        }
    }

    /** {@code 250ms}, {@code 5s}, {@code 2m} or {@code 1h}, as a configuration writes it. */
    private static String written(Duration duration) {
        if (duration == null) {
            return null;
        }
        long millis = duration.toMillis();
        return millis == 0 ? "0" : millis % 3_600_000 == 0 ? millis / 3_600_000 + "h" : millis % 60_000 == 0 ? millis / 60_000 + "m"
                : millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }

    /** {@code 512KB} or {@code 10MB}, as a configuration writes it. */
    private static String written(long bytes) {
        return bytes % (1 << 20) == 0 ? (bytes >> 20) + "MB" : bytes % (1 << 10) == 0 ? (bytes >> 10) + "KB"
                : Long.toString(bytes);
    }

    /** The key path of this node, empty for the root. */
    public String path() {
        return path;
    }

    /** The path of {@code key} under this node. */
    public String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    /** Whether this node holds {@code key} (with a value other than null); the key counts as known here. */
    public boolean has(String key) {
        knownKeys.add(key);
        return node.has(key) && !node.get(key).isNull();
    }

    /**
     * Declares keys valid here that the code reading this node only reads in some configurations (the settings of
     * another {@code store}, say), so that an "unknown key" hint lists them all.
     */
    public void known(String... keys) {
        knownKeys.addAll(List.of(keys));
    }

    /** The keys this node holds, in file order. */
    public Set<String> keys() {
        Set<String> keys = new LinkedHashSet<>();
        node.fieldNames().forEachRemaining(keys::add);
        return keys;
    }

    /** The node as Jackson parsed it; marks every key as read. */
    public JsonNode raw() {
        readKeys.addAll(keys());
        knownKeys.addAll(keys());
        return node;
    }

    /**
     * The node as parsed, marking no key as read: for comparing what a part was built from with a new configuration
     * (a reload carries over what did not change). Not to be modified.
     */
    public JsonNode snapshot() {
        return node;
    }

    /** Records a problem with {@code key} of this node. */
    public void problem(String key, String message) {
        problems.add(pathOf(key) + ": " + message);
    }

    /** Records a problem with this node as a whole. */
    public void problem(String message) {
        problems.add((path.isEmpty() ? "(root)" : path) + ": " + message);
    }

    private JsonNode read(String key) {
        readKeys.add(key);
        knownKeys.add(key);
        JsonNode value = node.get(key);
        return value == null || value.isNull() ? null : value;
    }

    private JsonNode scalar(String key, String expected) {
        JsonNode value = read(key);
        if (value != null && !value.isValueNode()) {
            problem(key, "must be " + expected + ", but was " + describe(value));
            return null;
        }
        return value;
    }

    private static String describe(JsonNode value) {
        if (value.isObject()) {
            return "a mapping";
        }
        if (value.isArray()) {
            return "a list";
        }
        return "'" + value.asText() + "'";
    }

    /** A required, non-blank string; {@code ""} after reporting when missing, null or blank. */
    public String string(String key) {
        record(key, "string", null, true);
        JsonNode value = scalar(key, "a string");
        if (value == null || value.asText().isBlank()) {
            JsonNode raw = node.get(key);
            if (raw == null || raw.isValueNode()) {
                problem(key, "is required");
            }
            return "";
        }
        return value.asText();
    }

    public String string(String key, String defaultValue) {
        record(key, "string", defaultValue, false);
        JsonNode value = scalar(key, "a string");
        return value == null ? defaultValue : value.asText();
    }

    /** An integer between {@code min} and {@code max} inclusive. */
    public int integer(String key, int defaultValue, int min, int max) {
        record(key, min == Integer.MIN_VALUE && max == Integer.MAX_VALUE ? "integer" : "integer, " + min + " to " + max,
                defaultValue, false);
        JsonNode value = scalar(key, "an integer");
        if (value == null) {
            return defaultValue;
        }
        if (value.isIntegralNumber() && !value.canConvertToLong()) {
            problem(key, "must be between " + min + " and " + max + ", but was " + value.asText());
            return defaultValue;
        }
        long parsed;
        try {
            parsed = value.isIntegralNumber() ? value.asLong() : Long.parseLong(value.asText().trim());
        } catch (NumberFormatException e) {
            problem(key, "must be an integer, but was " + describe(value));
            return defaultValue;
        }
        if (parsed < min || parsed > max) {
            problem(key, "must be between " + min + " and " + max + ", but was " + parsed);
            return defaultValue;
        }
        return (int) parsed;
    }

    public boolean bool(String key, boolean defaultValue) {
        record(key, "boolean", defaultValue, false);
        JsonNode value = scalar(key, "true or false");
        if (value == null) {
            return defaultValue;
        }
        String text = value.asText().trim().toLowerCase(Locale.ROOT);
        if (!text.equals("true") && !text.equals("false")) {
            problem(key, "must be true or false, but was " + describe(value));
            return defaultValue;
        }
        return text.equals("true");
    }

    /** A positive duration written {@code 500us} (microseconds), {@code 250ms}, {@code 5s}, {@code 2m} or {@code 1h}. */
    public Duration duration(String key, Duration defaultValue) {
        record(key, "duration", written(defaultValue), false);
        JsonNode value = scalar(key, "a duration");
        if (value == null) {
            return defaultValue;
        }
        Matcher matcher = DURATION.matcher(value.asText().trim());
        if (!matcher.matches() || matcher.group(1).matches("0+")) {
            problem(key, "must be a positive duration such as 250ms, 5s, 2m or 1h, but was " + describe(value));
            return defaultValue;
        }
        try {
            long amount = Long.parseLong(matcher.group(1));
            Duration duration = switch (matcher.group(2)) {
                case "us" -> Duration.ofNanos(Math.multiplyExact(amount, 1000L));
                case "ms" -> Duration.ofMillis(amount);
                case "s" -> Duration.ofSeconds(amount);
                case "m" -> Duration.ofMinutes(amount);
                default -> Duration.ofHours(amount);
            };
            if (duration.compareTo(MAX_DURATION) > 0) {
                throw new ArithmeticException("too long");
            }
            return duration;
        } catch (NumberFormatException | ArithmeticException e) {
            problem(key, "must be at most " + MAX_DURATION.toDays() + " days, but was " + describe(value));
            return defaultValue;
        }
    }

    /** A positive size in bytes, written {@code 1048576}, {@code 512KB} or {@code 10MB} (powers of 1024). */
    public long size(String key, long defaultValue) {
        record(key, "size", written(defaultValue), false);
        JsonNode value = scalar(key, "a size");
        if (value == null) {
            return defaultValue;
        }
        Matcher matcher = SIZE.matcher(value.asText().trim());
        if (!matcher.matches() || matcher.group(1).matches("0+")) {
            problem(key, "must be a positive size such as 65536, 512KB or 10MB, but was " + describe(value));
            return defaultValue;
        }
        String unit = matcher.group(2) == null ? "B" : matcher.group(2).toUpperCase(Locale.ROOT);
        int shift = switch (unit.charAt(0)) {
            case 'K' -> 10;
            case 'M' -> 20;
            case 'G' -> 30;
            default -> 0;
        };
        try {
            long bytes = Math.multiplyExact(Long.parseLong(matcher.group(1)), 1L << shift);
            if (bytes > MAX_SIZE) {
                throw new ArithmeticException("too large");
            }
            return bytes;
        } catch (NumberFormatException | ArithmeticException e) {
            problem(key, "must be at most " + (MAX_SIZE >> 30) + "GB, but was " + describe(value));
            return defaultValue;
        }
    }

    /** A list of strings; a single string counts as a list of one. */
    public List<String> strings(String key) {
        record(key, "list of strings", null, false);
        JsonNode value = read(key);
        if (value == null) {
            return List.of();
        }
        if (value.isValueNode()) {
            return List.of(value.asText());
        }
        List<String> result = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            JsonNode item = value.get(i);
            if (item == null || !item.isValueNode()) {
                problems.add(pathOf(key) + "[" + i + "]: must be a string");
            } else {
                result.add(item.asText());
            }
        }
        return result;
    }

    /** The mapping under {@code key}; an empty node when absent. */
    public ConfigNode child(String key) {
        record(key, "mapping", null, false);
        JsonNode value = read(key);
        if (value != null && !value.isObject()) {
            problem(key, "must be a mapping, but was " + describe(value));
            value = null;
        }
        return track(new ConfigNode(value, pathOf(key), problems, recorder));
    }

    /** The mappings listed under {@code key}, each with its index in its path; empty when absent. */
    public List<ConfigNode> list(String key) {
        record(key, "list of mappings", null, false);
        JsonNode value = read(key);
        if (value == null) {
            return List.of();
        }
        if (!value.isArray()) {
            problem(key, "must be a list, but was " + describe(value));
            return List.of();
        }
        List<ConfigNode> result = new ArrayList<>();
        for (int i = 0; i < value.size(); i++) {
            String itemPath = pathOf(key) + "[" + i + "]";
            if (!value.get(i).isObject()) {
                problems.add(itemPath + ": must be a mapping, but was " + describe(value.get(i)));
            } else {
                result.add(track(new ConfigNode(value.get(i), itemPath, problems, recorder)));
            }
        }
        return result;
    }

    private ConfigNode track(ConfigNode child) {
        children.add(child);
        return child;
    }

    /**
     * Reports every key of this node and of the nodes read from it that nobody read, naming the keys that were.
     * The kernel calls this after a plugin is built, so a misspelt option is an error, not a silent default.
     */
    public void reportUnknownKeys() {
        for (String key : keys()) {
            if (!readKeys.contains(key)) {
                problem(key, "unknown key; known keys here: " + String.join(", ", knownKeys));
            }
        }
        children.forEach(ConfigNode::reportUnknownKeys);
    }
}
