package dev.modelgate.spi;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BiConsumer;

/**
 * HTTP header fields: names compared without regard to case, values of one name kept in arrival order. Names
 * iterate in case-insensitive alphabetical order (HTTP gives no meaning to the order of different names).
 *
 * <p>Not thread-safe: a request's headers belong to the virtual thread serving it.
 */
public final class Headers {

    /** Compares names as it finds them: no lower-cased copy per lookup (a hot path: every request, every header). */
    private final Map<String, Field> fields = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);

    private record Field(String name, List<String> values) {
    }

    public Headers() {
    }

    /** A mutable copy of {@code other}. */
    public Headers(Headers other) {
        other.fields.forEach((key, field) -> fields.put(key, new Field(field.name, new ArrayList<>(field.values))));
    }

    /** The first value of {@code name}, or {@code null} when absent. */
    public String first(String name) {
        Field field = fields.get(name);
        return field == null ? null : field.values.getFirst();
    }

    /** Every value of {@code name}, in arrival order; empty when absent. */
    public List<String> all(String name) {
        Field field = fields.get(name);
        return field == null ? List.of() : Collections.unmodifiableList(field.values);
    }

    public boolean contains(String name) {
        return fields.containsKey(name);
    }

    /** Replaces every value of {@code name} with {@code value}. */
    public Headers set(String name, String value) {
        List<String> values = new ArrayList<>(1);
        values.add(value);
        fields.put(name, new Field(name, values));
        return this;
    }

    /** Adds {@code value} after any existing values of {@code name}. */
    public Headers add(String name, String value) {
        fields.computeIfAbsent(name, k -> new Field(name, new ArrayList<>(1))).values.add(value);
        return this;
    }

    public Headers remove(String name) {
        fields.remove(name);
        return this;
    }

    /** Calls {@code action} once per value, with the name as first set. */
    public void forEach(BiConsumer<String, String> action) {
        fields.values().forEach(field -> field.values.forEach(value -> action.accept(field.name, value)));
    }

    public boolean isEmpty() {
        return fields.isEmpty();
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        forEach((name, value) -> text.append(name).append(": ").append(value).append('\n'));
        return text.toString();
    }
}
