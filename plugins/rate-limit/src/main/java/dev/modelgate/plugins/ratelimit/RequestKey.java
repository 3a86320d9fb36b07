package dev.modelgate.plugins.ratelimit;

import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.Principal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.function.Function;

/**
 * Which bucket a request counts against. Immutable and thread-safe.
 *
 * <p>A request that lacks what its key is made of (no principal for {@code subject}, no API-key principal for
 * {@code api-key}, no header for {@code header:NAME}) is anonymous and counts against its client address, as
 * {@code client-ip} would key it. Each kind of key has its own prefix, so a subject named like an address never
 * shares that address's bucket. Keys longer than {@value #MAX_PLAIN_LENGTH} characters are replaced by their
 * SHA-256, so that a client sending huge header values cannot make the store hold huge keys.
 */
final class RequestKey {

    static final int MAX_PLAIN_LENGTH = 128;

    enum Kind {
        SUBJECT, API_KEY, CLIENT_IP, ROUTE, HEADER
    }

    private final Kind kind;
    private final String header;
    private final Function<Exchange, String> clientAddress;

    /**
     * @param header the header's name for {@link Kind#HEADER}; ignored otherwise
     * @param clientAddress the client address of a request, for {@code client-ip} and anonymous requests
     */
    RequestKey(Kind kind, String header, Function<Exchange, String> clientAddress) {
        this.kind = kind;
        this.header = header;
        this.clientAddress = clientAddress;
    }

    String of(Exchange exchange) {
        String key = switch (kind) {
            case SUBJECT -> {
                Principal principal = exchange.attribute(Principal.ATTRIBUTE);
                yield principal == null ? anonymous(exchange) : "subject:" + principal.subject();
            }
            case API_KEY -> {
                Principal principal = exchange.attribute(Principal.ATTRIBUTE);
                yield principal == null || !"api-key".equals(principal.scheme()) ? anonymous(exchange)
                        : "api-key:" + principal.subject();
            }
            case CLIENT_IP -> anonymous(exchange);
            case ROUTE -> "route:" + exchange.model() + ":" + exchange.apiVersion();
            case HEADER -> {
                String value = exchange.requestHeaders().first(header);
                yield value == null || value.isBlank() ? anonymous(exchange) : "header:" + value.strip();
            }
        };
        return key.length() <= MAX_PLAIN_LENGTH ? key : "sha256:" + sha256(key);
    }

    private String anonymous(Exchange exchange) {
        return "ip:" + clientAddress.apply(exchange);
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must support SHA-256", e);
        }
    }
}
