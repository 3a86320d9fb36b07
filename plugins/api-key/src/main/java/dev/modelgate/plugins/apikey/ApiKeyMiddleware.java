package dev.modelgate.plugins.apikey;

import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.Principal;
import dev.modelgate.spi.Response;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.Set;

/**
 * Checks the key a request presents against the configured hashes and sets the matching entry's principal. A
 * principal set by an earlier middleware (say {@code jwt}) lets the request on untouched, so either can authenticate
 * a route. Phased: all its work is before the rest of the pipeline. Thread-safe: immutable, and each call gets its own
 * {@link MessageDigest}.
 */
final class ApiKeyMiddleware implements PhasedMiddleware {

    private static final String CHALLENGE = "ApiKey";

    /** One configured key: the entry's name, the SHA-256 of the key, the roles it grants. */
    record Key(String name, byte[] sha256, Set<String> roles) {
    }

    private final String header;
    private final boolean optional;
    private final List<Key> keys;

    ApiKeyMiddleware(String header, boolean optional, List<Key> keys) {
        this.header = header;
        this.optional = optional;
        this.keys = List.copyOf(keys);
    }

    @Override
    public Response before(Exchange exchange) {
        if (exchange.attribute(Principal.ATTRIBUTE) != null) {
            return null;
        }
        List<String> presented = exchange.requestHeaders().all(header);
        if (presented.size() > 1) {
            return exchange.error(ApiKeyProvider.SEVERAL_KEYS, "send " + header + " once");
        }
        String key = presented.isEmpty() ? "" : presented.getFirst().strip();
        if (key.isEmpty()) {
            return optional ? null
                    : exchange.error(ApiKeyProvider.MISSING_KEY, "send it in " + header)
                            .withHeader("WWW-Authenticate", CHALLENGE);
        }
        Key match = find(sha256(key));
        if (match == null) {
            // No detail: the response must not echo the key or hint at which keys exist.
            return exchange.error(ApiKeyProvider.UNKNOWN_KEY, null).withHeader("WWW-Authenticate", CHALLENGE);
        }
        exchange.setAttribute(Principal.ATTRIBUTE, new Principal(match.name(), match.roles(), "api-key"));
        return null;
    }

    /**
     * The entry whose hash equals {@code presented}, or {@code null}. Compares against every entry, each in constant
     * time and without stopping at a match, so the time taken reveals neither whether nor which entry matched.
     */
    private Key find(byte[] presented) {
        Key match = null;
        for (Key candidate : keys) {
            boolean equal = MessageDigest.isEqual(presented, candidate.sha256());
            match = equal ? candidate : match;
        }
        return match;
    }

    private static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must support SHA-256", e);
        }
    }
}
