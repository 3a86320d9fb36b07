package dev.modelgate.plugins.pool;

import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Principal;

/**
 * What the {@code consistent-hash} balancer hashes to choose an instance: written {@code header:NAME},
 * {@code claim:NAME}, {@code subject} or {@code client-ip} in {@code hash-key}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param source where the key comes from
 * @param name the header or claim name; {@code null} for {@code subject} and {@code client-ip}
 */
record HashKey(Source source, String name) {

    enum Source { HEADER, CLAIM, SUBJECT, CLIENT_IP }

    static final String FORMAT = "header:NAME, claim:NAME, subject or client-ip";

    /** The key written {@code text}, or {@code null} when it is not one of the forms in {@link #FORMAT}. */
    static HashKey parse(String text) {
        String trimmed = text.strip();
        if (trimmed.equals("subject")) {
            return new HashKey(Source.SUBJECT, null);
        }
        if (trimmed.equals("client-ip")) {
            return new HashKey(Source.CLIENT_IP, null);
        }
        int colon = trimmed.indexOf(':');
        if (colon > 0 && colon < trimmed.length() - 1) {
            String name = trimmed.substring(colon + 1).strip();
            return switch (trimmed.substring(0, colon)) {
                case "header" -> new HashKey(Source.HEADER, name);
                case "claim" -> new HashKey(Source.CLAIM, name);
                default -> null;
            };
        }
        return null;
    }

    /** The key of {@code exchange}, or {@code null} when the request has none (no such header, anonymous). */
    String of(Exchange exchange) {
        return switch (source) {
            case HEADER -> exchange.requestHeaders().first(name);
            case CLIENT_IP -> exchange.clientAddress();
            case SUBJECT, CLAIM -> {
                Principal principal = exchange.attribute(Principal.ATTRIBUTE);
                if (principal == null) {
                    yield null;
                }
                yield source == Source.SUBJECT ? principal.subject() : principal.claims().get(name);
            }
        };
    }
}
