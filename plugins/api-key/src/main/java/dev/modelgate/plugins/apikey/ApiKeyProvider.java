package dev.modelgate.plugins.apikey;

import dev.modelgate.spi.ConfigNode;
import dev.modelgate.spi.ErrorCode;
import dev.modelgate.spi.Middleware;
import dev.modelgate.spi.MiddlewareProvider;
import dev.modelgate.spi.PluginContext;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The {@code api-key} middleware: authenticates a request by a static key sent in a header, and sets the
 * {@link dev.modelgate.spi.Principal} named after the key's entry.
 *
 * <pre>
 * - type: api-key
 *   header: X-API-Key         # default
 *   optional: false           # true: a request without the header passes on unauthenticated
 *   keys:                     # at least one
 *     - name: batch-scorer    # the principal's subject; unique
 *       sha256: 5e88...       # SHA-256 of the key, 64 hex digits: printf %s "$KEY" | sha256sum
 *       roles: [predict]
 * </pre>
 *
 * <p>The configuration holds hashes only, so a leaked configuration file leaks no key. Errors: no key 401
 * ({@link #MISSING_KEY}), a key matching no entry 401 ({@link #UNKNOWN_KEY}), both with {@code WWW-Authenticate:
 * ApiKey}; the header sent more than once 400 ({@link #SEVERAL_KEYS}).
 */
public final class ApiKeyProvider implements MiddlewareProvider {

    public static final ErrorCode MISSING_KEY = new ErrorCode(10201, 401, "UNAUTHENTICATED", "API key required");
    public static final ErrorCode UNKNOWN_KEY = new ErrorCode(10202, 401, "UNAUTHENTICATED", "unknown API key");
    public static final ErrorCode SEVERAL_KEYS =
            new ErrorCode(10203, 400, "INVALID_ARGUMENT", "more than one API key header");

    private static final String DEFAULT_HEADER = "X-API-Key";

    /** An HTTP field name is a token (RFC 9110, section 5.1). */
    private static final Pattern FIELD_NAME = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");

    @Override
    public String type() {
        return "api-key";
    }

    @Override
    public List<ErrorCode> errorCodes() {
        return List.of(MISSING_KEY, UNKNOWN_KEY, SEVERAL_KEYS);
    }

    @Override
    public Middleware create(ConfigNode config, PluginContext context) {
        String header = config.string("header", DEFAULT_HEADER);
        if (!FIELD_NAME.matcher(header).matches()) {
            config.problem("header", "must be an HTTP header name, but was '" + header + "'");
        }
        boolean optional = config.bool("optional", false);
        return new ApiKeyMiddleware(header, optional, keys(config));
    }

    private static List<ApiKeyMiddleware.Key> keys(ConfigNode config) {
        List<ConfigNode> nodes = config.list("keys");
        if (nodes.isEmpty()) {
            config.problem("keys", "at least one key is required");
        }
        List<ApiKeyMiddleware.Key> keys = new ArrayList<>(nodes.size());
        Map<String, String> namePaths = new HashMap<>();
        Map<String, String> hashPaths = new HashMap<>();
        for (ConfigNode node : nodes) {
            String name = node.string("name");
            String earlierName = name.isEmpty() ? null : namePaths.putIfAbsent(name, node.path());
            if (earlierName != null) {
                node.problem("name", "duplicate name '" + name + "', also used at " + earlierName);
            }
            String sha256 = node.string("sha256");
            // Never echo the value: a plain key pasted here by mistake must not reach the log.
            if (!sha256.isEmpty() && !SHA256_HEX.matcher(sha256).matches()) {
                node.problem("sha256", "must be 64 hexadecimal digits, the SHA-256 of the key, but was "
                        + sha256.length() + " characters long; compute it with: printf %s \"$KEY\" | sha256sum");
                sha256 = "";
            }
            String earlierHash = sha256.isEmpty() ? null
                    : hashPaths.putIfAbsent(sha256.toLowerCase(Locale.ROOT), node.path());
            if (earlierHash != null) {
                // One key with two names would make the subject depend on list order.
                node.problem("sha256", "same key as " + earlierHash);
            }
            Set<String> roles = Set.copyOf(node.strings("roles"));
            byte[] hash = sha256.isEmpty() ? new byte[0] : HexFormat.of().parseHex(sha256);
            keys.add(new ApiKeyMiddleware.Key(name, hash, roles));
        }
        return keys;
    }
}
