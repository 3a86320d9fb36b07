package dev.modelgate.plugins.jwt;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PhasedMiddleware;
import dev.modelgate.spi.PluginContext;
import java.util.List;

/**
 * The {@code jwt} middleware: authenticates a request by the JWT in {@code Authorization: Bearer} and sets the
 * {@link dev.modelgate.spi.Principal} (subject {@code sub}, roles from {@code roles-claim}) for {@code authorize}
 * and the rest of the route.
 *
 * <pre>
 * - type: jwt
 *   algorithm: RS256            # required: HS256/384/512, RS256/384/512, ES256/384/512; tokens must use it
 *   secret: ${JWT_SECRET}       # HS*: at least 32, 48, 64 bytes for HS256, HS384, HS512
 *   public-key: /etc/jwt.pem    # RS*, ES*: "BEGIN PUBLIC KEY" PEM file ...
 *   jwks-url: https://idp/jwks  # ... or the keys of an OAuth2 authorisation server
 *   jwks-timeout: 2s            # per fetch
 *   jwks-refresh-interval: 30s  # least time between fetches (unknown key ids fetch again, at most this often)
 *   jwks-cache-ttl: 5m          # fetched keys are fetched again after this
 *   issuer: https://idp         # iss must be this (or one of a list) when set
 *   audience: models            # aud must hold this (or one of a list) when set
 *   leeway: 30s                 # clock skew allowed for exp, nbf, iat
 *   roles-claim: roles          # a list claim, or a space-separated string such as scope
 *   max-token-size: 8KB
 *   cache-size: 10000           # verified tokens remembered; 0 verifies every request
 *   cache-ttl: 30s              # longest a token is trusted without a new check, even if its key left the JWKS
 * </pre>
 *
 * <p>Every token must carry {@code exp} and {@code sub}. Failures answer 401 with {@code WWW-Authenticate: Bearer}
 * and a code of their own; several {@code Authorization} headers answer 400, and a JWKS that could never be fetched
 * 503.
 *
 * <p>With a {@code secret} or a {@code public-key} the middleware is {@linkplain PhasedMiddleware phased} (it never
 * blocks, so a route of phased steps stays on the IO thread); with a {@code jwks-url} it is not, since a token whose
 * key is not cached waits for a fetch.
 */
public final class JwtProvider implements MiddlewareProvider {

    public static final ErrorCode MISSING_TOKEN =
            new ErrorCode(10101, 401, "UNAUTHENTICATED", "bearer token required");
    public static final ErrorCode MALFORMED = new ErrorCode(10102, 401, "UNAUTHENTICATED", "malformed token");
    public static final ErrorCode BAD_SIGNATURE =
            new ErrorCode(10103, 401, "UNAUTHENTICATED", "invalid token signature");
    public static final ErrorCode DISALLOWED_ALGORITHM =
            new ErrorCode(10104, 401, "UNAUTHENTICATED", "token algorithm not accepted");
    public static final ErrorCode UNKNOWN_KEY_ID =
            new ErrorCode(10105, 401, "UNAUTHENTICATED", "unknown token key");
    public static final ErrorCode EXPIRED = new ErrorCode(10106, 401, "UNAUTHENTICATED", "token expired");
    public static final ErrorCode NOT_YET_VALID =
            new ErrorCode(10107, 401, "UNAUTHENTICATED", "token not yet valid");
    public static final ErrorCode WRONG_ISSUER =
            new ErrorCode(10108, 401, "UNAUTHENTICATED", "token issuer not accepted");
    public static final ErrorCode WRONG_AUDIENCE =
            new ErrorCode(10109, 401, "UNAUTHENTICATED", "token audience not accepted");
    public static final ErrorCode MISSING_EXPIRY =
            new ErrorCode(10110, 401, "UNAUTHENTICATED", "token has no expiry");
    public static final ErrorCode TOKEN_TOO_LARGE =
            new ErrorCode(10111, 401, "UNAUTHENTICATED", "token too large");
    public static final ErrorCode SEVERAL_AUTHORIZATIONS =
            new ErrorCode(10112, 400, "INVALID_ARGUMENT", "more than one Authorization header");
    public static final ErrorCode KEYS_UNAVAILABLE =
            new ErrorCode(10113, 503, "UNAVAILABLE", "token keys unavailable");

    @Override
    public String type() {
        return "jwt";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(MISSING_TOKEN, MALFORMED, BAD_SIGNATURE, DISALLOWED_ALGORITHM, UNKNOWN_KEY_ID, EXPIRED,
                NOT_YET_VALID, WRONG_ISSUER, WRONG_AUDIENCE, MISSING_EXPIRY, TOKEN_TOO_LARGE, SEVERAL_AUTHORIZATIONS,
                KEYS_UNAVAILABLE);
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        JwtSettings settings = JwtSettings.read(config);
        if (settings == null) {
            return (exchange, chain) -> chain.proceed(); // discarded: the kernel saw the problems reported
        }
        KeySource keys;
        AutoCloseable closeable = () -> { };
        if (settings.jwks() != null) {
            JwksKeys jwks = new JwksKeys(settings.jwks(), settings.algorithm(),
                    key -> settings.verifier(key, context.clock()), context.clock(), context.logger());
            keys = jwks;
            closeable = jwks;
        } else {
            // One key: the verifier is built once here and shared by every request.
            KeySource.Lookup only = KeySource.Lookup.found(settings.verifier(
                    settings.secret() != null ? settings.algorithm().hmac(settings.secret())
                            : settings.algorithm().verifying(settings.publicKey()),
                    context.clock()));
            keys = kid -> only;
        }
        TokenVerifier verifier =
                new TokenVerifier(settings.algorithm(), keys, settings.rolesClaim(), settings.leeway());
        TokenCache cache = new TokenCache(verifier, settings.cacheSize(), settings.cacheTtl(), context.clock());
        JwtMiddleware jwt = new JwtMiddleware(cache, settings.maxTokenSize(), closeable);
        // A JWKS may be fetched on the request path, which must not happen on an IO thread: not phased then.
        return settings.jwks() != null ? PhasedMiddleware.blocking(jwt) : jwt;
    }
}
