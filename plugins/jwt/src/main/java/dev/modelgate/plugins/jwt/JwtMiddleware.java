package dev.modelgate.plugins.jwt;

import dev.modelgate.spi.Exchange;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.Principal;
import dev.modelgate.spi.Response;
import java.util.List;

/**
 * The {@code jwt} middleware: takes the token from {@code Authorization: Bearer}, lets the request on only when
 * {@link TokenVerifier} accepts it (or did lately, as {@link TokenCache} remembers), and sets the {@link Principal} for what runs after it ({@code authorize}, rate
 * limits, the access log). Tokens are never logged nor echoed in responses.
 *
 * <p>Phased: all its work is before the rest of the pipeline, and with a configured key (a secret or a PEM public key)
 * it never blocks. With a JWKS a token whose key is not cached waits for a fetch, which must not hold an IO thread:
 * the provider then wraps it in {@link PhasedMiddleware#blocking}, which the kernel runs on the request's virtual
 * thread.
 */
final class JwtMiddleware implements PhasedMiddleware, AutoCloseable {

    private static final String AUTHORIZATION = "Authorization";
    private static final String CHALLENGE = "WWW-Authenticate";
    /** RFC 6750, section 3: a request without credentials gets the bare challenge, without an error code. */
    private static final String NO_TOKEN_CHALLENGE = "Bearer realm=\"modelgate\"";
    private static final String INVALID_TOKEN_CHALLENGE = "Bearer error=\"invalid_token\"";
    private static final String INVALID_REQUEST_CHALLENGE = "Bearer error=\"invalid_request\"";
    private static final String SCHEME = "Bearer";

    private final TokenCache verifier;
    private final long maxTokenSize;
    private final AutoCloseable keys;

    /** @param keys closed with this middleware: the JWKS client, when there is one */
    JwtMiddleware(TokenCache verifier, long maxTokenSize, AutoCloseable keys) {
        this.verifier = verifier;
        this.maxTokenSize = maxTokenSize;
        this.keys = keys;
    }

    @Override
    public Response before(Exchange exchange) {
        List<String> values = exchange.requestHeaders().all(AUTHORIZATION);
        if (values.size() > 1) {
            // Two credentials: which one a later hop would read is anyone's guess, so take neither.
            return exchange.error(JwtProvider.SEVERAL_AUTHORIZATIONS, null)
                    .withHeader(CHALLENGE, INVALID_REQUEST_CHALLENGE);
        }
        String header = values.isEmpty() ? null : values.getFirst().strip();
        if (header == null || !isBearer(header)) {
            return exchange.error(JwtProvider.MISSING_TOKEN, "send Authorization: Bearer <token>")
                    .withHeader(CHALLENGE, NO_TOKEN_CHALLENGE);
        }
        String token = header.substring(SCHEME.length()).strip();
        if (token.isEmpty()) {
            return invalid(exchange, new TokenVerifier.Rejected(JwtProvider.MALFORMED, "the bearer token is empty"));
        }
        if (token.length() > maxTokenSize) {
            return invalid(exchange, new TokenVerifier.Rejected(JwtProvider.TOKEN_TOO_LARGE,
                    "longer than " + maxTokenSize + " characters"));
        }
        return switch (verifier.verify(token)) {
            case TokenVerifier.Verified verified -> {
                exchange.setAttribute(Principal.ATTRIBUTE, verified.principal());
                yield null;
            }
            case TokenVerifier.Rejected rejected -> invalid(exchange, rejected);
        };
    }

    /** {@code Bearer}, in any case, alone or followed by whitespace. */
    private static boolean isBearer(String header) {
        return header.regionMatches(true, 0, SCHEME, 0, SCHEME.length())
                && (header.length() == SCHEME.length() || Character.isWhitespace(header.charAt(SCHEME.length())));
    }

    private static Response invalid(Exchange exchange, TokenVerifier.Rejected rejected) {
        Response response = exchange.error(rejected.error(), rejected.detail());
        // A 503 (no keys to check with) says nothing about the token, so it carries no challenge.
        return rejected.error().httpStatus() == 401
                ? response.withHeader(CHALLENGE, INVALID_TOKEN_CHALLENGE)
                : response;
    }

    @Override
    public void close() throws Exception {
        keys.close();
    }
}
