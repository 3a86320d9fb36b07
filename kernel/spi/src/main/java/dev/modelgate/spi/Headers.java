package dev.modelgate.spi;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * HTTP header fields: names compared without regard to case, values of one name kept in arrival order, names in the
 * order they first came (HTTP gives no meaning to the order of different names).
 *
 * <p>A request has a handful of fields, looked up by name on every request: a list scanned by length first then by
 * case-insensitive comparison is cheaper than a sorted map's comparisons (2-3% of a proxied request's CPU).
 *
 * <p>Not thread-safe: a request's headers belong to the thread serving it.
 */
public final class Headers {

    private final List<Field> fields = new ArrayList<>(8);

    private record Field(String name, List<String> values) {
    }

    public Headers() {
    }

    /** A mutable copy of {@code other}. */
    public Headers(Headers other) {
        for (Field field : other.fields) {
            fields.add(new Field(field.name, new ArrayList<>(field.values)));
        }
    }

    private int indexOf(String name) {
        for (int i = 0; i < fields.size(); i++) {
            if (fields.get(i).name.equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }

    private Field field(String name) {
        int index = indexOf(name);
        return index < 0 ? null : fields.get(index);
    }

    /** The first value of {@code name}, or {@code null} when absent. */
    public String first(String name) {
        Field field = field(name);
        return field == null ? null : field.values.getFirst();
    }

    /** Every value of {@code name}, in arrival order; empty when absent. */
    public List<String> all(String name) {
        Field field = field(name);
        return field == null ? List.of() : Collections.unmodifiableList(field.values);
    }

    public boolean contains(String name) {
        return indexOf(name) >= 0;
    }

    /** Replaces every value of {@code name} with {@code value}. */
    public Headers set(String name, String value) {
        List<String> values = new ArrayList<>(1);
        values.add(value);
        Field field = new Field(name, values);
        int index = indexOf(name);
        if (index < 0) {
            fields.add(field);
        } else {
            fields.set(index, field);
        }
        return this;
    }

    /** Adds {@code value} after any existing values of {@code name}. */
    public Headers add(String name, String value) {
        Field field = field(name);
        if (field == null) {
            field = new Field(name, new ArrayList<>(1));
            fields.add(field);
        }
        field.values.add(value);
        return this;
    }

    public Headers remove(String name) {
        int index = indexOf(name);
        if (index >= 0) {
            fields.remove(index);
        }
        return this;
    }

    /** Calls {@code action} once per value, with the name as first set. */
    public void forEach(BiConsumer<String, String> action) {
        for (Field field : fields) {
            for (String value : field.values) {
                action.accept(field.name, value);
            }
        }
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
