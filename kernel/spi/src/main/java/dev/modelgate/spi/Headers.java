package dev.modelgate.spi;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * HTTP header fields: names compared without regard to case, values of one name kept in arrival order, names in the
 * order they first came (HTTP gives no meaning to the order of different names).
 *
 * <p>A request has a handful of fields, looked up by name on every request: two arrays scanned by case-insensitive
 * comparison (length first) cost less than a sorted map's comparisons (2-3% of a proxied request's CPU), and a name's
 * only value is held as itself, with no list: every request copies its headers and its backend's answer's.
 *
 * <p>Not thread-safe: a request's headers belong to the thread serving it.
 */
public final class Headers {

    private static final int INITIAL_CAPACITY = 8;

    private String[] names = new String[INITIAL_CAPACITY];
    /** Each name's value: a {@code String} when it has one, else a {@code List<String>} of them. */
    private Object[] values = new Object[INITIAL_CAPACITY];
    private int size;

    public Headers() {
    }

    /** A mutable copy of {@code other}. */
    public Headers(Headers other) {
        names = Arrays.copyOf(other.names, Math.max(INITIAL_CAPACITY, other.size));
        values = Arrays.copyOf(other.values, names.length);
        size = other.size;
        for (int i = 0; i < size; i++) {
            if (values[i] instanceof List<?> several) {
                values[i] = new ArrayList<>(several);
            }
        }
    }

    private int indexOf(String name) {
        for (int i = 0; i < size; i++) {
            if (names[i].equalsIgnoreCase(name)) {
                return i;
            }
        }
        return -1;
    }

    @SuppressWarnings("unchecked")
    private static List<String> several(Object value) {
        return (List<String>) value;
    }

    /** The first value of {@code name}, or {@code null} when absent. */
    public String first(String name) {
        int index = indexOf(name);
        if (index < 0) {
            return null;
        }
        return values[index] instanceof String one ? one : several(values[index]).getFirst();
    }

    /** Every value of {@code name}, in arrival order; empty when absent. */
    public List<String> all(String name) {
        int index = indexOf(name);
        if (index < 0) {
            return List.of();
        }
        return values[index] instanceof String one ? List.of(one)
                : Collections.unmodifiableList(several(values[index]));
    }

    public boolean contains(String name) {
        return indexOf(name) >= 0;
    }

    /** Replaces every value of {@code name} with {@code value}. */
    public Headers set(String name, String value) {
        int index = indexOf(name);
        if (index < 0) {
            append(name, value);
        } else {
            names[index] = name;
            values[index] = value;
        }
        return this;
    }

    /** Adds {@code value} after any existing values of {@code name}. */
    public Headers add(String name, String value) {
        int index = indexOf(name);
        if (index < 0) {
            append(name, value);
        } else if (values[index] instanceof String one) {
            List<String> both = new ArrayList<>(2);
            both.add(one);
            both.add(value);
            values[index] = both;
        } else {
            several(values[index]).add(value);
        }
        return this;
    }

    private void append(String name, String value) {
        if (size == names.length) {
            names = Arrays.copyOf(names, size * 2);
            values = Arrays.copyOf(values, size * 2);
        }
        names[size] = name;
        values[size] = value;
        size++;
    }

    public Headers remove(String name) {
        int index = indexOf(name);
        if (index >= 0) {
            System.arraycopy(names, index + 1, names, index, size - index - 1);
            System.arraycopy(values, index + 1, values, index, size - index - 1);
            size--;
            names[size] = null;
            values[size] = null;
        }
        return this;
    }

    /** Calls {@code action} once per value, with the name as first set. */
    public void forEach(BiConsumer<String, String> action) {
        for (int i = 0; i < size; i++) {
            if (values[i] instanceof String one) {
                action.accept(names[i], one);
            } else {
                for (String value : several(values[i])) {
                    action.accept(names[i], value);
                }
            }
        }
    }

    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder();
        forEach((name, value) -> text.append(name).append(": ").append(value).append('\n'));
        return text.toString();
    }
}
