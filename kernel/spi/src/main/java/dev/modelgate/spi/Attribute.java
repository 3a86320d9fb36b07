package dev.modelgate.spi;

/**
 * A typed key for per-request state on an {@link Exchange}, as Undertow's {@code AttachmentKey}: one middleware
 * stores the authenticated subject, another reads it. Compared by identity, so keep each key in a constant.
 *
 * @param <T> the type of the value stored under this key
 */
public final class Attribute<T> {

    private final String name;

    private Attribute(String name) {
        this.name = name;
    }

    public static <T> Attribute<T> named(String name) {
        return new Attribute<>(name);
    }

    public String name() {
        return name;
    }

    @Override
    public String toString() {
        return "Attribute[" + name + "]";
    }
}
